"""What a delivery says and where it goes: the template rendered in the recipient's language
with the notification's variables and the recipient's own details, the tracking and
unsubscribe links of an email, and the .ics of an interview."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from notifier.dispatch.events import NEXT_STEPS
from notifier.kinds import LOCALES
from notifier.settings import NotifierSettings
from notifier.tracking.links import LinkSigner, Unsubscribe
from shared import ics

ICS_KINDS = {"interview_booked": False, "interview_cancelled": True}  # kind -> cancelled


def variables_for(
    data: dict[str, Any],
    *,
    settings: NotifierSettings,
    locale: str,
    recipient_name: str,
    job_title: str,
) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "recipient_name": recipient_name,
        "job_title": job_title,
        "company_name": settings.company_name,
        "portal_url": settings.portal_url,
        "variant": 0,
        "locale": locale,
        "time_zone": settings.default_time_zone,
        **{key: value for key, value in data.items() if key != "next_step_codes"},
    }
    if "next_step_codes" in data:
        words = NEXT_STEPS.get(locale, NEXT_STEPS["zh-CN"])
        variables["next_steps"] = [words[code] for code in data["next_step_codes"] if code in words]
    return variables


def pick_locale(*candidates: str | None, default: str) -> str:
    for locale in candidates:
        if locale in LOCALES:
            return locale
    return default


def email_headers(
    signer: LinkSigner, *, recipient_kind: str, recipient_id: str, kind: str
) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe from this kind."""
    url = signer.unsubscribe_url(Unsubscribe(recipient_kind, recipient_id, kind))
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def calendar_file(kind: str, data: dict[str, Any], *, job_title: str, now: datetime) -> bytes:
    """The interview's .ics with the scheduler's UID and SEQUENCE, so it updates the event a
    calendar already holds."""
    cancelled = ICS_KINDS[kind]
    location = data.get("location")
    return ics.render(
        ics.CalendarInterview(
            uid=str(data["calendar_uid"]),
            sequence=int(data.get("calendar_sequence") or 0),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            stamp=now,
            summary=f"Interview: {job_title}" if job_title else "Interview",
            cancelled=cancelled,
            confirmed=not cancelled,
            time_zone=str(data.get("time_zone") or "UTC"),
            location="Online" if location == "online" else None,
        )
    )


def webhook_payload(
    *,
    delivery_id: uuid.UUID,
    notification: Any,
    created_at: datetime,
) -> dict[str, Any]:
    """What a customer's endpoint receives: ids and the notice's variables, never a name,
    email or phone."""
    return {
        "type": f"notification.{notification.kind}",
        "timestamp": created_at.isoformat(),
        "data": {
            "notification_id": str(notification.id),
            "delivery_id": str(delivery_id),
            "kind": notification.kind,
            "application_id": _text(notification.application_id),
            "job_id": _text(notification.job_id),
            "candidate_id": _text(notification.candidate_id),
            "source_event_id": str(notification.source_event_id),
            "variables": {
                key: value for key, value in notification.data.items() if key != "next_step_codes"
            },
        },
    }


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
