"""Every setting a service reads is in the configuration table of docs/deployment.md, and the
table names no setting that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from shared.settings import ServiceSettings

DEPLOYMENT = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"


def _documented() -> set[str]:
    """Settings named in the first column of the tables under "## Configuration"."""
    text = DEPLOYMENT.read_text(encoding="utf-8")
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.M))


def test_every_setting_is_documented_and_every_documented_setting_exists() -> None:
    fields = {name.upper() for name in ServiceSettings.model_fields}

    documented = _documented()

    assert fields - documented == set(), "settings missing from docs/deployment.md"
    assert documented - fields == set(), "docs/deployment.md documents unknown settings"
