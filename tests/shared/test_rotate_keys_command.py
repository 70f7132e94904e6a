"""``python -m <service> rotate-keys`` across the suite: every table holding ciphertexts is
declared in its service's ``key_rotations`` (so the command leaves nothing under an old key),
and a service without any says so and succeeds. The command's work on real rows is tested
with the talent pool's (tests/talentpool/test_key_rotation.py) and each service's
``rotate_keys`` in its own tests."""

from __future__ import annotations

import io

import pytest

from notifier.app import spec as notifier_spec
from pipeline.app import spec as pipeline_spec
from scheduler.app import spec as scheduler_spec
from shared.cli import rotate_keys
from shared.service import ServiceSpec
from talentpool.app import spec as talentpool_spec


def _encrypted_tables(spec: ServiceSpec) -> set[str]:
    return {
        table.name
        for table in spec.metadata.tables.values()
        if any(column.name.endswith("_ciphertext") for column in table.columns)
    }


@pytest.mark.parametrize(
    "spec",
    [pipeline_spec, scheduler_spec, notifier_spec, talentpool_spec],
    ids=lambda spec: spec.name,
)
def test_every_table_with_ciphertexts_is_rotated_by_its_service(spec: ServiceSpec) -> None:
    rotated = [rotation.table for rotation in spec.key_rotations]

    assert set(rotated) == _encrypted_tables(spec)
    assert len(rotated) == len(set(rotated))


async def test_a_service_without_encrypted_data_says_so_and_succeeds() -> None:
    out, err = io.StringIO(), io.StringIO()
    # No keys needed: there is nothing they would be used for.
    settings = scheduler_spec.settings_class(pii_index_key=None)

    status = await rotate_keys(scheduler_spec, settings, out=out, err=err)

    assert status == 0
    assert out.getvalue() == (
        "scheduler keeps no personal data encrypted with the PII keys: nothing to do.\n"
    )
    assert err.getvalue() == ""
