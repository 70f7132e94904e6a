"""The pipeline obeys the talent pool's ``erasure_requested`` for its own copy and confirms."""

from __future__ import annotations

from pipeline.consumers import handlers
from pipeline.erasure import service
from shared.crypto import Keyring
from shared.erasure import confirm
from shared.events.envelope import ReceivedEvent
from shared.events.talentpool import ErasureRequestedV1, PipelineErasureCompletedV1
from shared.settings import ServiceSettings
from shared.unit import UnitOfWork

_keyrings: dict[int, Keyring] = {}


def _keyring(settings: ServiceSettings | None) -> Keyring:
    if settings is None:
        raise RuntimeError("erasure needs the pipeline's settings in the unit of work")
    keyring = _keyrings.get(id(settings))
    if keyring is None:
        keyring = _keyrings[id(settings)] = Keyring.from_settings(settings)
    return keyring


@handlers.on(ErasureRequestedV1, name="pipeline.erase_person")
async def erase_person(unit: UnitOfWork, event: ReceivedEvent[ErasureRequestedV1]) -> None:
    erased = await service.erase(
        unit=unit, keyring=_keyring(unit.settings), candidate_ids=event.data.candidate_ids
    )
    await confirm(unit, event.data, PipelineErasureCompletedV1, erased)
