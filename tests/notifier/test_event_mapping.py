"""Which notices each event calls for (a pure function of the event)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from notifier.dispatch.events import owed_for
from notifier.kinds import KINDS
from shared.events.pipeline import (
    Actor,
    ApprovalRequestedV1,
    MessagePostedV1,
    StageChangedV1,
    StageRef,
)
from shared.events.scheduler import (
    InterviewBookedV1,
    InvitationSentV1,
    ReminderDueV1,
    Slot,
)

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PORTAL = "https://careers.example.com/status"
APPLICATION, JOB, CANDIDATE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
SCREENING = StageRef(key="screening", kind="screening")


def _stage(to: StageRef, **fields: object) -> StageChangedV1:
    values: dict[str, object] = {
        "application_id": APPLICATION,
        "job_id": JOB,
        "candidate_id": CANDIDATE,
        "transition": "advance",
        "from_stage": SCREENING,
        "to_stage": to,
        "notify_candidate": True,
        "actor": Actor(kind="hr", id="hr-alice"),
        "occurred_at": NOW,
        **fields,
    }
    return StageChangedV1.model_validate(values)


def test_a_stage_passed_names_the_next_steps() -> None:
    [owed] = owed_for(_stage(StageRef(key="bg", kind="background_check")), portal_url=PORTAL)
    assert (owed.kind, owed.audience, owed.candidate_id) == ("stage_passed", "candidate", CANDIDATE)
    assert owed.variables["next_step_codes"] == ["send_documents"]


def test_offer_rejection_and_silence() -> None:
    [offer] = owed_for(_stage(StageRef(key="offer", kind="offer")), portal_url=PORTAL)
    rejected_event = _stage(
        StageRef(key="rejected", kind="rejected"),
        transition="reject",
        status="rejected",
        reason_code="skills_mismatch",
    )
    [rejected] = owed_for(rejected_event, portal_url=PORTAL)
    silent = _stage(StageRef(key="round_1", kind="interview"), notify_candidate=False)
    withdrawn = _stage(SCREENING, transition="withdraw", status="withdrawn")
    assert offer.kind == "offer"
    assert rejected.kind == "rejected"
    assert rejected.variables == {
        "stage": "screening",
        "reason_code": "skills_mismatch",
        "reason": "",
    }
    assert owed_for(silent, portal_url=PORTAL) == []
    assert owed_for(withdrawn, portal_url=PORTAL) == []


def test_an_approval_tells_the_approver_and_once_the_candidate() -> None:
    expected = NOW + timedelta(days=2)
    first = ApprovalRequestedV1(
        result_id=uuid.uuid4(),
        application_id=APPLICATION,
        job_id=JOB,
        approver_id="hr-lead",
        position=1,
        due_at=NOW + timedelta(days=1),
        candidate_id=CANDIDATE,
        expected_by=expected,
    )
    approver, candidate = owed_for(first, portal_url=PORTAL)
    second = first.model_copy(update={"position": 2, "approver_id": "hr-head"})
    [only_approver] = owed_for(second, portal_url=PORTAL)
    assert (approver.kind, approver.recipients) == ("approval_requested", (("staff", "hr-lead"),))
    assert candidate.kind == "result_under_review"
    assert candidate.variables == {"expected_by": expected.isoformat()}
    assert only_approver.recipients == (("staff", "hr-head"),)


def test_messages_go_to_the_other_side() -> None:
    base = {
        "message_id": uuid.uuid4(),
        "application_id": APPLICATION,
        "job_id": JOB,
        "candidate_id": CANDIDATE,
        "posted_at": NOW,
    }
    [to_candidate] = owed_for(
        MessagePostedV1.model_validate({**base, "sender_kind": "hr"}), portal_url=PORTAL
    )
    [to_hr] = owed_for(
        MessagePostedV1.model_validate({**base, "sender_kind": "candidate"}), portal_url=PORTAL
    )
    assert (to_candidate.kind, to_candidate.audience) == ("message_from_hr", "candidate")
    assert (to_hr.kind, to_hr.audience) == ("message_from_candidate", "hr")


def test_invitations_carry_their_pick_link_and_slots() -> None:
    invitation = uuid.uuid4()
    live = InvitationSentV1(
        invitation_id=invitation,
        application_id=APPLICATION,
        job_id=JOB,
        candidate_id=CANDIDATE,
        kind="live_interview",
        candidate_group="campus",
        deadline_at=NOW + timedelta(days=2),
        slots=[Slot(starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=3, hours=1))],
    )
    [owed] = owed_for(live, portal_url=PORTAL + "/")
    [ai] = owed_for(
        live.model_copy(update={"kind": "ai_interview", "slots": []}), portal_url=PORTAL
    )
    assert owed.kind == "interview_invitation"
    assert owed.variables["pick_url"] == f"{PORTAL}/invitations/{invitation}"
    assert len(owed.variables["slots"]) == 1
    assert ai.kind == "ai_interview_invitation"


def test_reminders_and_bookings_reach_candidate_and_interviewers() -> None:
    interview = uuid.uuid4()
    panel = [uuid.uuid4(), uuid.uuid4()]
    reminder = ReminderDueV1(
        subject_kind="interview",
        subject_id=interview,
        application_id=APPLICATION,
        job_id=JOB,
        candidate_id=CANDIDATE,
        reminder="before_2h",
        recipients=["candidate", "interviewers"],
        due_at=NOW,
        at=NOW + timedelta(hours=2),
        interviewer_subjects=["iv-zhang"],
    )
    booked = InterviewBookedV1(
        interview_id=interview,
        application_id=APPLICATION,
        job_id=JOB,
        candidate_id=CANDIDATE,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        time_zone="Asia/Shanghai",
        interviewer_ids=panel,
        interviewer_subjects=["iv-li", "iv-zhang"],
        room_id=uuid.uuid4(),
    )
    assert [(o.kind, o.audience) for o in owed_for(reminder, portal_url=PORTAL)] == [
        ("interview_reminder", "candidate"),
        ("interview_reminder", "interviewers"),
    ]
    [_, for_panel] = owed_for(reminder, portal_url=PORTAL)
    assert for_panel.interviewer_subjects == ("iv-zhang",)
    unnamed = reminder.model_copy(update={"interviewer_subjects": []})
    assert [o.audience for o in owed_for(unnamed, portal_url=PORTAL)] == ["candidate"]
    candidate, interviewers = owed_for(booked, portal_url=PORTAL)
    assert interviewers.interviewer_subjects == ("iv-li", "iv-zhang")
    assert candidate.kind == "interview_booked"
    assert interviewers.interviewer_ids == tuple(panel)
    assert candidate.variables["calendar_uid"] == f"{interview}@recruiting"
    assert candidate.variables["location"] == "on_site"
    remote = owed_for(
        booked.model_copy(update={"room_id": None, "remote": True}), portal_url=PORTAL
    )
    assert remote[0].variables["location"] == "online"


def test_every_kind_an_event_can_owe_is_in_the_catalogue_with_that_audience() -> None:
    for owed in owed_for(
        ApprovalRequestedV1(
            result_id=uuid.uuid4(),
            application_id=APPLICATION,
            job_id=JOB,
            approver_id="a",
            position=1,
            due_at=None,
            candidate_id=CANDIDATE,
        ),
        portal_url=PORTAL,
    ):
        assert owed.audience in KINDS[owed.kind].audiences
