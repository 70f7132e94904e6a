from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from scheduler.proposals import service
from scheduler.proposals.dependencies import VisibleProposal
from scheduler.proposals.models import Proposal
from scheduler.proposals.schemas import ProposalCreate, ProposalRead
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, Staff, Unit
from shared.problems import error_responses

router = APIRouter(tags=["proposals"])


def _read(proposal: Proposal, *, status_code: int = 200, location: bool = False) -> Response:
    headers = {"Location": f"/v1/proposals/{proposal.id}"} if location else {}
    return json_response(
        ProposalRead.model_validate(proposal), status_code=status_code, headers=headers
    )


@router.post(
    "/v1/applications/{application_id}/proposals",
    status_code=201,
    response_model=ProposalRead,
    summary="Propose ranked interview slots for an application, and say why others do not fit",
    description="Every required interviewer, `k` of each pool and a room (unless remote) must "
    "be free for the interview and its buffers, under each interviewer's daily and weekly caps, "
    "after the minimum notice, on the candidate's local step grid. Suggestions are ranked by "
    "the candidate's windows, time of day, interviewer load and earliness, each reason shown. "
    "`diagnostics` counts the start times refused per constraint. Emits `interview_proposed`. "
    "HR only for jobs they own (else 404).",
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
async def create_proposal(
    application_id: Annotated[uuid.UUID, Path(description="The application's id.")],
    body: ProposalCreate,
    unit: Unit,
    principal: Staff,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        job_id, candidate_id = await service.application_parties(
            session=unit.session,
            principal=principal,
            application_id=application_id,
            job_id=body.job_id,
            candidate_id=body.candidate_id,
        )
        request = await service.slot_request(session=unit.session, body=body)
        proposal = await service.create_proposal(
            unit=unit,
            application_id=application_id,
            job_id=job_id,
            candidate_id=candidate_id,
            request=request,
            actor=principal.subject,
        )
        return _read(proposal, status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/proposals/{proposal_id}",
    response_model=ProposalRead,
    summary="One proposal: its request, ranked suggestions and diagnostics",
    responses=error_responses(401, 403, 404, 422),
)
async def get_proposal(proposal: VisibleProposal) -> Response:
    return _read(proposal)
