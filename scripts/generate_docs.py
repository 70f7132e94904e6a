"""Regenerate the documents derived from code: ``docs/asyncapi.yaml`` (the event catalog) and
``docs/openapi/<service>.json``. ``--check`` fails when a checked-in copy is stale."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from notifier.app import spec as notifier_spec
from pipeline.app import spec as pipeline_spec
from scheduler.app import spec as scheduler_spec
from shared.events import asyncapi
from shared.events.catalog import CATALOG
from shared.http.app import create_app
from shared.service import ServiceSpec
from talentpool.app import spec as talentpool_spec

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SPECS: list[ServiceSpec] = [pipeline_spec, scheduler_spec, notifier_spec, talentpool_spec]


class _PlainDumper(yaml.SafeDumper):
    """No anchors or aliases: the document is read by people and by tools that dislike them."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def rendered() -> dict[Path, str]:
    """Every generated document, by path, as it should be on disk."""
    consumers = {spec.name: spec.handlers.event_types for spec in SPECS}
    documents = {
        DOCS / "asyncapi.yaml": yaml.dump(
            asyncapi.build(CATALOG, consumers),
            Dumper=_PlainDumper,
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )
    }
    for spec in SPECS:
        document = create_app(
            spec, spec.settings_class(run_relay=False, run_consumers=False)
        ).openapi()
        documents[DOCS / "openapi" / f"{spec.name}.json"] = (
            json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
    return documents


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a document is stale")
    args = parser.parse_args()
    stale = []
    for path, content in rendered().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("stale (run `make docs`): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
