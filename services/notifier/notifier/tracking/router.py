"""Tracking (open pixel, click redirect), unsubscribe links, SMS delivery receipts and the
in-app inboxes of staff and candidates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import SecretStr
from starlette.responses import HTMLResponse, RedirectResponse, Response

from notifier.channels import bounces
from notifier.channels import email as email_channel
from notifier.channels import sms as sms_channel
from notifier.channels.receipts import Receipt, ReceiptRejected
from notifier.settings import NotifierSettings
from notifier.tracking import inbox, pages, service
from notifier.tracking.dependencies import (
    CandidateInbox,
    InboxLinkIssuer,
    Settings,
    Signer,
    StaffInbox,
)
from notifier.tracking.links import BadLink
from notifier.tracking.schemas import (
    DSN_BODY,
    EMAIL_RECEIPTS_BODY,
    MAX_RECEIPTS,
    SMS_RECEIPTS_BODY,
    InboxItem,
    InboxLink,
    InboxLinkCreate,
    MarkedRead,
    ReceiptsAccepted,
    Unsubscribed,
)
from shared.http.app import json_response
from shared.http.dependencies import Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import Problem, error_responses, not_found, service_unavailable
from shared.unit import UnitOfWork

router = APIRouter()

_NO_STORE = {"Cache-Control": "no-store"}
# No length limits on these: a link that is not ours gets the pixel or a 404, never a 422.
_SIGNATURE = Path(
    description="The link's HMAC, as the notifier wrote it into the message.",
    examples=["3q2-7wGQ2kV9cH0bXk1aJw"],
)
_DELIVERY = Path(
    description="The delivery the link was written for.",
    examples=["0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"],
)
_TOKEN = Path(
    description="The signed token of an unsubscribe link.",
    examples=[
        "WyJjYW5kaWRhdGUiLCIwMTkzYjBhNSIsImludGVydmlld19yZW1pbmRlciJd.3q2-7wGQ2kV9cH0bXk1aJw"
    ],
)


def _bad_link() -> Problem:
    # One answer for every kind of bad link, so a probe learns nothing about which part failed.
    return Problem(404, "Not found", "This link is not valid.", slug="not-found")


# Open pixel and click redirect


@router.get(
    "/v1/t/open/{delivery_id}/{signature}.gif",
    tags=["tracking"],
    summary="The open pixel of an email: a transparent 1x1 GIF; records the delivery as seen",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}}, "description": "Always the same GIF."}},
)
async def open_pixel(
    unit: Unit,
    signer: Signer,
    delivery_id: Annotated[str, _DELIVERY],
    signature: Annotated[str, _SIGNATURE],
) -> Response:
    # A forged or stale pixel still gets the image: a broken image in someone's mail helps no
    # one, and the answer must not tell a prober which links are real.
    await service.record_open(unit, signer, delivery_id=delivery_id, signature=signature)
    return Response(pages.PIXEL_GIF, media_type="image/gif", headers=_NO_STORE)


@router.get(
    "/v1/t/click/{delivery_id}/{signature}",
    tags=["tracking"],
    summary="A tracked link: records the click and redirects to the URL it was signed for",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {"description": "On to the URL; `Location` names it."},
        **error_responses(404),
    },
)
async def click(
    unit: Unit,
    signer: Signer,
    delivery_id: Annotated[str, _DELIVERY],
    signature: Annotated[str, _SIGNATURE],
    u: Annotated[
        str | None,
        Query(
            description="The URL the link leads to; only the one it was signed for is followed.",
            examples=["https://careers.example.com/pick/abc"],
        ),
    ] = None,
) -> Response:
    target = await service.record_click(
        unit, signer, delivery_id=delivery_id, signature=signature, target=u
    )
    if target is None:
        raise _bad_link()
    return RedirectResponse(
        target, status_code=302, headers={**_NO_STORE, "Referrer-Policy": "no-referrer"}
    )


# Unsubscribe


def _wants_json(accept: str | None) -> bool:
    return accept is not None and "application/json" in accept.lower()


@router.get(
    "/v1/unsubscribe/{token}",
    tags=["tracking"],
    summary="The page of an unsubscribe link: what it does, and a button to confirm",
    response_class=HTMLResponse,
    responses=error_responses(404),
)
async def unsubscribe_page(
    signer: Signer,
    settings: Settings,
    token: Annotated[str, _TOKEN],
    accept_language: Annotated[str | None, Header(examples=["zh-CN,zh;q=0.9,en;q=0.8"])] = None,
) -> HTMLResponse:
    # Opening the page changes nothing: mail scanners follow links, only the POST unsubscribes.
    try:
        wanted = service.read_unsubscribe(signer, token)
    except BadLink:
        raise _bad_link() from None
    locale = pages.negotiate_locale(accept_language, settings.default_locale)
    return HTMLResponse(
        pages.unsubscribe_form(wanted.kind, locale),
        headers={**pages.PAGE_HEADERS, "Content-Language": locale},
    )


@router.post(
    "/v1/unsubscribe/{token}",
    tags=["tracking"],
    summary="Unsubscribe (RFC 8058 one-click, or the page's button); doing it again is harmless",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "HTML confirmation, or JSON with `Accept: application/json`.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": Unsubscribed.model_json_schema(),
                    "example": {
                        "unsubscribed": True,
                        "scope": "kind",
                        "kind": "interview_reminder",
                        "channels_kept": ["in_app"],
                    },
                },
            },
        },
        **error_responses(404),
    },
    openapi_extra={
        "requestBody": {
            "required": False,
            "description": "`List-Unsubscribe=One-Click` (RFC 8058), form-encoded or multipart, "
            "or nothing: the signed token alone decides.",
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}
                        },
                    }
                }
            },
        }
    },
)
async def unsubscribe(
    unit: Unit,
    signer: Signer,
    settings: Settings,
    token: Annotated[str, _TOKEN],
    accept: Annotated[str | None, Header(examples=["application/json"])] = None,
    accept_language: Annotated[str | None, Header(examples=["en"])] = None,
) -> Response:
    # The body is not read: mail providers send it form-encoded or multipart, and what it says
    # (RFC 8058's "List-Unsubscribe=One-Click") adds nothing to the signed token.
    try:
        done = await service.unsubscribe(unit, signer, token)
    except BadLink:
        raise _bad_link() from None
    if _wants_json(accept):
        answer = Unsubscribed(
            unsubscribed=True,
            scope="all" if done.kind is None else "kind",
            kind=done.kind,
            channels_kept=["in_app"],
        )
        return json_response(answer, headers=_NO_STORE)
    locale = pages.negotiate_locale(accept_language, settings.default_locale)
    return HTMLResponse(
        pages.unsubscribed(done.kind, locale),
        headers={**pages.PAGE_HEADERS, "Content-Language": locale},
    )


# SMS delivery receipts


ReceiptSignature = Annotated[
    str | None,
    Header(
        description="`sha256=<hex HMAC-SHA256 of the body>` with the receipt secret.",
        examples=["sha256=5d41402abc4b2a76b9719d911017c592"],
    ),
]


def _receipt_secret(
    secret: SecretStr | None, settings: NotifierSettings, what: str, variable: str
) -> str | None:
    """The secret receipts must be signed with; none outside production takes them unsigned.
    In production a missing one is a 503: unsigned receipts would let anyone mark our messages
    undelivered."""
    if secret is None and settings.environment == "production":
        raise service_unavailable(f"{what} are not configured ({variable}).")
    return secret.get_secret_value() if secret is not None else None


def _email_secret(settings: NotifierSettings) -> str | None:
    return _receipt_secret(
        settings.email_receipt_secret, settings, "Email receipts", "NOTIFIER_EMAIL_RECEIPT_SECRET"
    )


ReceiptParser = Callable[[bytes, str | None, str | None], list[Receipt]]


async def _take(
    request: Request,
    unit: UnitOfWork,
    parse: ReceiptParser,
    signature: str | None,
    secret: str | None,
    *,
    channel: str,
    source: str,
) -> ReceiptsAccepted:
    """Check and parse a signed receipt body (what the parser refuses is a 401 or 422
    problem), then record its receipts."""
    try:
        receipts = parse(await request.body(), signature, secret)
    except ReceiptRejected as rejected:
        raise _rejected(rejected) from None
    if len(receipts) > MAX_RECEIPTS:
        raise _rejected(
            ReceiptRejected(422, f"receipts: at most {MAX_RECEIPTS} receipts per request.")
        )
    accepted, held = await service.apply_receipts(unit, receipts, channel=channel, source=source)
    return ReceiptsAccepted(accepted=accepted, held=held)


@router.post(
    "/v1/receipts/sms",
    tags=["tracking"],
    response_model=ReceiptsAccepted,
    summary="The SMS gateway's signed delivery receipts (a repeated receipt changes nothing)",
    responses=error_responses(401, 413, 422, 503),
    openapi_extra={"requestBody": SMS_RECEIPTS_BODY},
)
async def sms_receipts(
    request: Request, unit: Unit, settings: Settings, x_signature: ReceiptSignature = None
) -> ReceiptsAccepted:
    secret = _receipt_secret(
        settings.sms_receipt_secret, settings, "SMS receipts", "NOTIFIER_SMS_RECEIPT_SECRET"
    )
    return await _take(
        request,
        unit,
        sms_channel.parse_receipts,
        x_signature,
        secret,
        channel="sms",
        source=service.SMS_SOURCE,
    )


@router.post(
    "/v1/receipts/email",
    tags=["tracking"],
    response_model=ReceiptsAccepted,
    summary="The email provider's signed bounce and delivery events",
    responses=error_responses(401, 413, 422, 503),
    openapi_extra={"requestBody": EMAIL_RECEIPTS_BODY},
)
async def email_receipts(
    request: Request, unit: Unit, settings: Settings, x_signature: ReceiptSignature = None
) -> ReceiptsAccepted:
    """`message_id` is the Message-ID of the email (with or without its angle brackets);
    `bounced` ends the delivery as bounced with its reason, and a repeated event changes
    nothing."""
    return await _take(
        request,
        unit,
        email_channel.parse_receipts,
        x_signature,
        _email_secret(settings),
        channel="email",
        source=service.EMAIL_SOURCE,
    )


@router.post(
    "/v1/receipts/email/dsn",
    tags=["tracking"],
    response_model=ReceiptsAccepted,
    summary="A bounce report (delivery status notification) from the return-path mailbox",
    responses=error_responses(401, 413, 422, 503),
    openapi_extra={"requestBody": DSN_BODY},
)
async def email_bounce_report(
    request: Request, unit: Unit, settings: Settings, x_signature: ReceiptSignature = None
) -> ReceiptsAccepted:
    """For whatever reads the mailbox bounces come back to: post each report as it came,
    signed with the email receipt secret. A `failed` recipient bounces the email the report
    returns the Message-ID of (reason: the status code, such as `5.1.1`), `delivered` or
    `relayed` marks it delivered, `delayed` says nothing yet. The same report posted twice is
    recorded once."""
    return await _take(
        request,
        unit,
        partial(bounces.parse_report, received_at=unit.clock.now()),
        x_signature,
        _email_secret(settings),
        channel="email",
        source=service.EMAIL_SOURCE,
    )


def _rejected(rejected: ReceiptRejected) -> Problem:
    if rejected.status_code == 401:
        return Problem(
            401,
            "Unauthorized",
            rejected.message,
            slug="unauthorized",
            headers={"WWW-Authenticate": 'Signature header="X-Signature"'},
        )
    if rejected.status_code == 422:
        # "receipts[1].id: ..." names the field as the parser saw it; ours are dotted paths.
        field, _, message = rejected.message.partition(": ")
        if not message:
            field, message = "", rejected.message
        field = field.replace("[", ".").replace("]", "")
        return Problem(
            422,
            "Invalid request",
            rejected.message,
            slug="validation-error",
            errors=[{"field": field, "location": "body", "message": message, "code": "invalid"}],
        )
    return Problem(
        rejected.status_code, "Receipt refused", rejected.message, slug="receipt-refused"
    )


# In-app inboxes


def _item(row: Any) -> Response:
    # Messages are personal: no shared cache may keep them.
    return json_response(InboxItem.of(row), headers=_NO_STORE)


async def _list(
    unit: Unit, recipient: tuple[str, str], page: PageQuery, unread: bool
) -> Page[InboxItem]:
    rows, next_cursor = await inbox.list_items(
        unit.session, recipient=recipient, params=page, unread=unread
    )
    return Page[InboxItem](items=[InboxItem.of(row) for row in rows], next_cursor=next_cursor)


async def _mark(
    unit: Unit,
    recipient: tuple[str, str],
    delivery_id: uuid.UUID,
    engagement: Literal["seen", "read"],
) -> Response:
    row = await inbox.mark(
        unit, recipient=recipient, delivery_id=delivery_id, engagement=engagement
    )
    if row is None:
        raise not_found("inbox item", delivery_id)
    return _item(row)


_UNREAD = Query(description="Only the items not read yet.", examples=[True])


@router.get(
    "/v1/inbox",
    tags=["inbox"],
    response_model=Page[InboxItem],
    summary="Your in-app messages, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_my_inbox(
    unit: Unit, recipient: StaffInbox, page: PageQuery, unread: Annotated[bool, _UNREAD] = False
) -> Response:
    return json_response(await _list(unit, recipient, page, unread), headers=_NO_STORE)


@router.post(
    "/v1/inbox/read-all",
    tags=["inbox"],
    response_model=MarkedRead,
    summary="Mark all your in-app messages read",
    responses=error_responses(401, 403),
)
async def read_all_of_my_inbox(unit: Unit, recipient: StaffInbox) -> MarkedRead:
    return MarkedRead(marked=await inbox.mark_all_read(unit, recipient=recipient))


@router.post(
    "/v1/inbox/{delivery_id}/seen",
    tags=["inbox"],
    response_model=InboxItem,
    summary="Mark one of your in-app messages seen (shown in a list); again changes nothing",
    responses=error_responses(401, 403, 404, 422),
)
async def see_in_my_inbox(delivery_id: uuid.UUID, unit: Unit, recipient: StaffInbox) -> Response:
    return await _mark(unit, recipient, delivery_id, "seen")


@router.post(
    "/v1/inbox/{delivery_id}/read",
    tags=["inbox"],
    response_model=InboxItem,
    summary="Mark one of your in-app messages read (opened); again changes nothing",
    responses=error_responses(401, 403, 404, 422),
)
async def read_in_my_inbox(delivery_id: uuid.UUID, unit: Unit, recipient: StaffInbox) -> Response:
    return await _mark(unit, recipient, delivery_id, "read")


@router.get(
    "/v1/candidate-inbox",
    tags=["inbox"],
    response_model=Page[InboxItem],
    summary="A candidate's in-app messages, newest first (candidate inbox token)",
    responses=error_responses(400, 401, 422),
)
async def list_candidate_inbox(
    unit: Unit,
    recipient: CandidateInbox,
    page: PageQuery,
    unread: Annotated[bool, _UNREAD] = False,
) -> Response:
    return json_response(await _list(unit, recipient, page, unread), headers=_NO_STORE)


@router.post(
    "/v1/candidate-inbox/read-all",
    tags=["inbox"],
    response_model=MarkedRead,
    summary="Mark all of a candidate's in-app messages read (candidate inbox token)",
    responses=error_responses(401),
)
async def read_all_of_candidate_inbox(unit: Unit, recipient: CandidateInbox) -> MarkedRead:
    return MarkedRead(marked=await inbox.mark_all_read(unit, recipient=recipient))


@router.post(
    "/v1/candidate-inbox/{delivery_id}/seen",
    tags=["inbox"],
    response_model=InboxItem,
    summary="Mark a candidate's in-app message seen (candidate inbox token)",
    responses=error_responses(401, 404, 422),
)
async def see_in_candidate_inbox(
    delivery_id: uuid.UUID, unit: Unit, recipient: CandidateInbox
) -> Response:
    return await _mark(unit, recipient, delivery_id, "seen")


@router.post(
    "/v1/candidate-inbox/{delivery_id}/read",
    tags=["inbox"],
    response_model=InboxItem,
    summary="Mark a candidate's in-app message read (candidate inbox token)",
    responses=error_responses(401, 404, 422),
)
async def read_in_candidate_inbox(
    delivery_id: uuid.UUID, unit: Unit, recipient: CandidateInbox
) -> Response:
    return await _mark(unit, recipient, delivery_id, "read")


@router.post(
    "/v1/candidate-inbox-links",
    tags=["inbox"],
    response_model=InboxLink,
    summary="A token opening one candidate's inbox, for the candidate portal's back-end",
    responses=error_responses(401, 403, 422),
)
async def create_candidate_inbox_link(
    body: InboxLinkCreate, unit: Unit, signer: Signer, _: InboxLinkIssuer
) -> Response:
    # Whole seconds: the token carries its expiry in seconds, and the answer says the same.
    expires_at = (unit.clock.now() + timedelta(minutes=body.expires_in_minutes)).replace(
        microsecond=0
    )
    link = InboxLink(
        candidate_id=body.candidate_id,
        token=signer.inbox_token(body.candidate_id, expires_at),
        expires_at=expires_at,
    )
    return json_response(link, headers=_NO_STORE)
