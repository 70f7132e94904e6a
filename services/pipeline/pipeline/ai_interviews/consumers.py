"""What the pipeline does after an AI interview's result arrives: the job's thresholds may
move the application on (or, only where the job allows it, reject it) through a result."""

from __future__ import annotations

from pipeline.ai_interviews import automation
from pipeline.consumers import handlers
from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import AiInterviewCompletedV1, AiInterviewReportReadyV1
from shared.unit import UnitOfWork

HANDLER = "pipeline.advance_after_ai_interview"


@handlers.on(AiInterviewCompletedV1, name=HANDLER)
async def advance_after_completed(
    unit: UnitOfWork, event: ReceivedEvent[AiInterviewCompletedV1]
) -> None:
    await automation.decide_on_score(
        unit=unit, application_id=event.data.application_id, interview_id=event.data.interview_id
    )


@handlers.on(AiInterviewReportReadyV1, name=HANDLER)
async def advance_after_report(
    unit: UnitOfWork, event: ReceivedEvent[AiInterviewReportReadyV1]
) -> None:
    await automation.decide_on_score(
        unit=unit, application_id=event.data.application_id, interview_id=event.data.interview_id
    )
