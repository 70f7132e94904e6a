from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Path, Request

from pipeline.settings import PipelineSettings
from shared.auth.webhooks import WebhookVerifier
from shared.http.dependencies import RuntimeDep


@dataclass(frozen=True)
class VendorDelivery:
    """A delivery whose signature one of the vendor's secrets made, within the tolerance."""

    vendor: str
    webhook_id: str
    payload: dict[str, Any]


def _verifier(request: Request, settings: PipelineSettings) -> WebhookVerifier:
    # Built once per app from its settings (decoding the secrets is not free).
    verifier: WebhookVerifier | None = getattr(request.app.state, "ai_interview_verifier", None)
    if verifier is None:
        verifier = WebhookVerifier(
            {
                vendor: [secret.get_secret_value() for secret in secrets]
                for vendor, secrets in settings.vendor_secrets.items()
            }
        )
        request.app.state.ai_interview_verifier = verifier
    return verifier


async def verified_delivery(
    request: Request,
    runtime: RuntimeDep,
    vendor: Annotated[
        str,
        Path(
            max_length=64,
            description="The vendor's name, as configured in `vendor_secrets`.",
            examples=["acme"],
        ),
    ],
    # Declared for the documentation; missing or bad ones are a 401 from the verifier.
    webhook_id: Annotated[
        str | None,
        Header(
            description="Unique id of the delivery, the same on every retry.",
            examples=["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"],
        ),
    ] = None,
    webhook_timestamp: Annotated[
        str | None,
        Header(
            description="Unix seconds when it was signed; refused if more than 5 minutes off.",
            examples=["1741053300"],
        ),
    ] = None,
    webhook_signature: Annotated[
        str | None,
        Header(
            description="Space-separated `v1,<base64 HMAC-SHA256>` signatures of "
            "`{webhook-id}.{webhook-timestamp}.{body}`.",
            examples=["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="],
        ),
    ] = None,
) -> VendorDelivery:
    """The vendor's delivery, verified before anything is read or stored (404 for a vendor we
    do not know, 401 for a bad or missing signature or a stale timestamp)."""
    settings = cast(PipelineSettings, runtime.settings)
    body = await request.body()
    parsed = _verifier(request, settings).verify(vendor, body, request.headers)
    assert webhook_id is not None  # the signature covers it, so it is there
    return VendorDelivery(
        vendor=vendor,
        webhook_id=webhook_id,
        # Anything but an object is refused by the body's validation right after this.
        payload=parsed if isinstance(parsed, dict) else {},
    )


VerifiedDelivery = Annotated[VendorDelivery, Depends(verified_delivery)]
