"""The notifier's settings and keyring as a handler sees them (through its unit of work)."""

from __future__ import annotations

from notifier.settings import NotifierSettings
from shared.crypto import Keyring
from shared.unit import UnitOfWork

_keyrings: dict[int, Keyring] = {}


def settings_of(unit: UnitOfWork) -> NotifierSettings:
    settings = unit.settings
    if not isinstance(settings, NotifierSettings):
        raise RuntimeError("the notifier's handlers need its settings in the unit of work")
    return settings


def keyring_of(settings: NotifierSettings) -> Keyring:
    """Built once per settings object (decoding the keys on every event would be waste)."""
    keyring = _keyrings.get(id(settings))
    if keyring is None:
        keyring = _keyrings[id(settings)] = Keyring.from_settings(settings)
    return keyring
