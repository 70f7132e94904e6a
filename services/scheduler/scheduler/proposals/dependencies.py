from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from scheduler.jobs.dependencies import can_see_job
from scheduler.proposals import service
from scheduler.proposals.models import Proposal
from shared.http.dependencies import Staff, Unit
from shared.problems import not_found

ProposalId = Annotated[uuid.UUID, Path(description="The proposal's id.")]


async def visible_proposal(proposal_id: ProposalId, unit: Unit, principal: Staff) -> Proposal:
    """The proposal, if the caller may see its job (404 otherwise, so ids cannot be probed)."""
    proposal = await service.get(session=unit.session, proposal_id=proposal_id)
    if proposal is None or not await can_see_job(unit.session, principal, proposal.job_id):
        raise not_found("proposal", proposal_id)
    return proposal


VisibleProposal = Annotated[Proposal, Depends(visible_proposal)]
