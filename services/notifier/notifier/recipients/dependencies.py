"""Who may manage whose notification settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from notifier.recipients import service
from notifier.recipients.schemas import RecipientKind
from shared.auth.principal import Principal, Role
from shared.http.dependencies import CurrentPrincipal, Unit, require_role
from shared.problems import forbidden, not_found

StaffMember = Annotated[Principal, Depends(require_role(Role.HR, Role.INTERVIEWER, Role.ADMIN))]
"""Anyone who works here: HR, interviewers and admins (not other services)."""


async def managed_recipient(
    kind: Annotated[RecipientKind, Path(examples=["candidate"])],
    recipient_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=255,
            description="A candidate's or interviewer's UUID, or a staff member's JWT subject.",
            examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"],
        ),
    ],
    principal: CurrentPrincipal,
    unit: Unit,
) -> tuple[str, str]:
    """The ``(kind, id)`` the caller may manage: any for admins; for HR, a candidate of a job
    they own (others' candidates are hidden as 404); nobody else."""
    if principal.role is not Role.ADMIN and (principal.role is not Role.HR or kind != "candidate"):
        raise forbidden("Admins manage staff and interviewers; HR manage only candidates.")
    if kind != "staff":
        try:
            recipient_id = str(uuid.UUID(recipient_id))
        except ValueError:
            raise service.invalid("recipient_id", "path", f"a {kind} id is a UUID") from None
    if principal.role is Role.ADMIN:
        return kind, recipient_id
    visible = await service.candidate_visible_to(
        unit.session, candidate_id=uuid.UUID(recipient_id), subject=principal.subject
    )
    if not visible:
        raise not_found("recipient", f"{kind}/{recipient_id}")
    return kind, recipient_id


ManagedRecipient = Annotated[tuple[str, str], Depends(managed_recipient)]
