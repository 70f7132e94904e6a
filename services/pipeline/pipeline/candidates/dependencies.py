from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.crypto import Keyring
from shared.http.dependencies import RuntimeDep


async def get_keyring(request: Request, runtime: RuntimeDep) -> Keyring:
    """The keyring of the service's PII keys, built once per app."""
    keyring: Keyring | None = getattr(request.app.state, "pii_keyring", None)
    if keyring is None:
        keyring = Keyring.from_settings(runtime.settings)
        request.app.state.pii_keyring = keyring
    return keyring


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
