"""Whether a person may be invited (again) to a job now, and if not, why. Plain data in, a
reason out: no database, so the rules can be read and tested on their own.

The reasons, checked in this order (the first that holds is the one given):

- ``erased``: the profile was anonymized, or its erasure was asked for; nobody is left to
  invite.
- ``merged``: the profile was merged into another; invite the surviving profile instead.
- ``on_hold``: HR put the person on hold until a date that has not passed.
- ``unsubscribed``: the person unsubscribed from every notification.
- ``no_consent``: inviting someone to another job is a new purpose (PIPL art. 14: a change of
  purpose needs new consent), so it needs a granted, unexpired ``re_engagement`` consent.
  Inviting them again to take the AI interview of the application they made themselves (the
  no-show group) stays within the purpose they applied for, so it needs none.
- ``already_applied``: the person already has an application to the job (only when a new
  application would be created).
- ``application_ended``: the application to invite them on again was rejected, withdrawn or
  hired (only for the no-show group).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Reason = Literal[
    "erased",
    "merged",
    "on_hold",
    "unsubscribed",
    "no_consent",
    "already_applied",
    "application_ended",
]
REASONS: tuple[Reason, ...] = (
    "erased",
    "merged",
    "on_hold",
    "unsubscribed",
    "no_consent",
    "already_applied",
    "application_ended",
)


@dataclass(frozen=True)
class Consent:
    """A person's answer for the ``re_engagement`` purpose."""

    granted: bool
    expires_at: datetime | None = None

    def holds(self, now: datetime) -> bool:
        return self.granted and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class Person:
    """What eligibility reads of a profile."""

    anonymized_at: datetime | None = None
    merged_into: object | None = None
    on_hold_until: datetime | None = None
    unsubscribed_at: datetime | None = None
    consent: Consent | None = None
    # Whether one of the person's candidates already applied to the job.
    applied_to_job: bool = False
    # For the no-show group: whether the application is still active.
    application_active: bool = True


def refusal(person: Person, *, now: datetime, same_application: bool) -> Reason | None:
    """Why ``person`` may not be invited now (None: they may). ``same_application``: the
    invitation is a new AI-interview invitation on the application they made, not a new
    application (so neither consent nor an existing application stands in the way)."""
    if person.anonymized_at is not None:
        return "erased"
    if person.merged_into is not None:
        return "merged"
    if person.on_hold_until is not None and person.on_hold_until > now:
        return "on_hold"
    if person.unsubscribed_at is not None:
        return "unsubscribed"
    if same_application:
        return None if person.application_active else "application_ended"
    if person.consent is None or not person.consent.holds(now):
        return "no_consent"
    if person.applied_to_job:
        return "already_applied"
    return None
