from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pipeline.applications.dependencies import VisibleApplication
from pipeline.applications.schemas import ApplicationRead
from pipeline.candidates import service as candidates
from pipeline.candidates.schemas import CandidateRead, CandidateUpdate
from pipeline.intake import service
from pipeline.intake.schemas import (
    ApplicationCreate,
    BulkApplicationsCreate,
    BulkApplicationsRead,
    BulkRowResult,
)
from pipeline.jobs.dependencies import VisibleJob
from pipeline.results.service import actor_of
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, KeyringDep, Staff, Unit
from shared.problems import conflict, error_responses

router = APIRouter(tags=["applications"])


@router.post(
    "/v1/jobs/{job_id}/applications",
    status_code=201,
    response_model=ApplicationRead,
    summary="Add a candidate's application to a job, in the job's first stage",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def create_application(
    job: VisibleJob,
    body: ApplicationCreate,
    unit: Unit,
    keyring: KeyringDep,
    idempotency: IdempotencyDep,
) -> Response:
    """A candidate who already applied to the job (same email, or same phone) gets a 409
    `duplicate-application` naming the existing application; a closed job, 409 `job-closed`."""

    async def produce() -> Response:
        [added] = await service.add(
            unit=unit, keyring=keyring, job=job, people=[body.candidate], source="api"
        )
        if added.row is None:
            raise conflict(
                "This candidate already applied to this job.",
                slug="duplicate-application",
                application_id=str(added.application_id),
            )
        application = ApplicationRead.model_validate(added.row)
        return json_response(
            application,
            status_code=201,
            headers={
                "ETag": f'"{application.version}"',
                "Location": f"/v1/applications/{application.id}",
            },
        )

    return await idempotency.run(unit, produce)


@router.post(
    "/v1/jobs/{job_id}/applications/bulk",
    response_model=BulkApplicationsRead,
    summary="Add up to 1,000 applications to a job, with one result per row",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def create_applications_in_bulk(
    job: VisibleJob,
    body: BulkApplicationsCreate,
    unit: Unit,
    keyring: KeyringDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Good rows are created, bad rows are explained, and the request is safe to retry: with
    the same `Idempotency-Key` it replays the first answer; without one, rows created before
    come back as `exists`."""

    async def produce() -> Response:
        parsed = service.parse_rows(body.rows)
        valid = [row for row in parsed if isinstance(row, ApplicationCreate)]
        added = iter(
            await service.add(
                unit=unit,
                keyring=keyring,
                job=job,
                people=[row.candidate for row in valid],
                source="bulk",
            )
        )
        results: list[BulkRowResult] = []
        for index, row in enumerate(parsed):
            if isinstance(row, ApplicationCreate):
                outcome = next(added)
                results.append(
                    BulkRowResult(
                        index=index,
                        outcome=outcome.outcome,
                        application_id=outcome.application_id,
                    )
                )
            else:
                results.append(
                    BulkRowResult(index=index, outcome="invalid", application_id=None, errors=row)
                )
        outcomes = [result.outcome for result in results]
        return json_response(
            BulkApplicationsRead(
                created=outcomes.count("created"),
                existing=outcomes.count("exists"),
                invalid=outcomes.count("invalid"),
                results=results,
            )
        )

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/applications/{application_id}/candidate",
    response_model=CandidateRead,
    summary="The application's candidate with their contact data, decrypted",
    responses=error_responses(401, 403, 404, 422),
)
async def get_application_candidate(
    application: VisibleApplication, unit: Unit, keyring: KeyringDep
) -> Response:
    """Only through an application the caller may see; the answer must not be cached."""
    candidate = await candidates.read_contact(
        session=unit.session, keyring=keyring, candidate_id=application.candidate_id
    )
    return json_response(candidate, headers={"Cache-Control": "no-store"})


@router.patch(
    "/v1/applications/{application_id}/candidate",
    response_model=CandidateRead,
    summary="Correct the application's candidate: name, email, phone or language",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {
                        "email": {
                            "summary": "A mistyped email address",
                            "value": {"email": "li.lei@example.com"},
                        },
                        "phone": {
                            "summary": "A new phone number, and English",
                            "value": {"phone": "+8613812345678", "locale": "en"},
                        },
                        "no_phone": {"summary": "No phone any more", "value": {"phone": None}},
                    }
                }
            }
        }
    },
)
async def update_application_candidate(
    application: VisibleApplication,
    body: CandidateUpdate,
    principal: Staff,
    unit: Unit,
    keyring: KeyringDep,
) -> Response:
    """Through an application the caller may see (HR owning its job, or an admin), like the
    read. Only the fields given change; the person is recognised by the new email or phone
    from now on. 409 `contact-in-use`: another candidate has that email or phone (merging two
    candidates is not done here). The answer is the candidate as now stored, not to be cached;
    the other services are told which fields changed (`candidate_changed`), never the
    values."""
    candidate = await candidates.update_contact(
        unit=unit,
        keyring=keyring,
        candidate_id=application.candidate_id,
        body=body,
        actor=actor_of(principal),
    )
    return json_response(candidate, headers={"Cache-Control": "no-store"})
