"""Properties of re-invitation eligibility, a pure function over plain data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from talentpool.reinvitations.eligibility import REASONS, Consent, Person, refusal

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

moments = st.one_of(
    st.none(),
    st.integers(-400, 400).map(lambda days: NOW + timedelta(days=days)),
)
past = st.integers(1, 400).map(lambda days: NOW - timedelta(days=days))
future = st.integers(1, 400).map(lambda days: NOW + timedelta(days=days))
consents = st.one_of(st.none(), st.builds(Consent, granted=st.booleans(), expires_at=moments))
people = st.builds(
    Person,
    anonymized_at=st.one_of(st.none(), past),
    merged_into=st.one_of(st.none(), st.builds(uuid.uuid4)),
    on_hold_until=moments,
    unsubscribed_at=st.one_of(st.none(), past),
    consent=consents,
    applied_to_job=st.booleans(),
    application_active=st.booleans(),
)
CLEAR = Person(consent=Consent(granted=True))


@given(people, st.booleans())
def test_the_reason_is_always_one_of_the_documented_ones(person: Person, same: bool) -> None:
    assert refusal(person, now=NOW, same_application=same) in (*REASONS, None)


@given(people, st.booleans())
def test_an_anonymized_person_is_always_refused_as_erased(person: Person, same: bool) -> None:
    erased = Person(**{**person.__dict__, "anonymized_at": NOW - timedelta(days=1)})
    assert refusal(erased, now=NOW, same_application=same) == "erased"


@given(people, st.booleans())
def test_a_merged_profile_is_refused_unless_erased(person: Person, same: bool) -> None:
    merged = Person(**{**person.__dict__, "anonymized_at": None, "merged_into": uuid.uuid4()})
    assert refusal(merged, now=NOW, same_application=same) == "merged"


@given(future, st.booleans())
def test_someone_on_hold_until_a_future_date_is_refused(until: datetime, same: bool) -> None:
    person = Person(**{**CLEAR.__dict__, "on_hold_until": until})
    assert refusal(person, now=NOW, same_application=same) == "on_hold"


@given(past)
def test_a_hold_that_ended_no_longer_counts(until: datetime) -> None:
    person = Person(**{**CLEAR.__dict__, "on_hold_until": until})
    assert refusal(person, now=NOW, same_application=False) is None


@given(past, st.booleans())
def test_someone_unsubscribed_is_refused(at: datetime, same: bool) -> None:
    person = Person(**{**CLEAR.__dict__, "unsubscribed_at": at})
    assert refusal(person, now=NOW, same_application=same) == "unsubscribed"


@given(consents)
def test_a_new_application_needs_a_granted_unexpired_consent(consent: Consent | None) -> None:
    reason = refusal(Person(consent=consent), now=NOW, same_application=False)
    holds = (
        consent is not None
        and consent.granted
        and (consent.expires_at is None or consent.expires_at > NOW)
    )
    assert reason == (None if holds else "no_consent")


@given(consents, st.booleans())
def test_the_same_application_needs_no_consent_and_ignores_other_applications(
    consent: Consent | None, applied: bool
) -> None:
    person = Person(consent=consent, applied_to_job=applied)
    assert refusal(person, now=NOW, same_application=True) is None


def test_the_same_application_is_refused_once_it_ended() -> None:
    person = Person(application_active=False)
    assert refusal(person, now=NOW, same_application=True) == "application_ended"
    assert (
        refusal(
            Person(**{**CLEAR.__dict__, "application_active": False}),
            now=NOW,
            same_application=False,
        )
        is None
    )


def test_someone_who_already_applied_to_the_job_is_not_invited_to_apply_again() -> None:
    person = Person(**{**CLEAR.__dict__, "applied_to_job": True})
    assert refusal(person, now=NOW, same_application=False) == "already_applied"


@given(people, st.booleans())
def test_eligibility_holds_exactly_when_no_rule_refuses(person: Person, same: bool) -> None:
    on_hold = person.on_hold_until is not None and person.on_hold_until > NOW
    consent = person.consent is not None and person.consent.holds(NOW)
    blocked = (
        person.anonymized_at is not None
        or person.merged_into is not None
        or on_hold
        or person.unsubscribed_at is not None
        or (same and not person.application_active)
        or (not same and (not consent or person.applied_to_job))
    )
    assert (refusal(person, now=NOW, same_application=same) is None) == (not blocked)
