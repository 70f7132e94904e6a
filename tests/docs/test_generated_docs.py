"""The checked-in AsyncAPI and OpenAPI documents are what the code generates today."""

from __future__ import annotations

import yaml

from scripts import generate_docs
from shared.events.catalog import CATALOG


def test_checked_in_documents_are_current() -> None:
    stale = [
        str(path.relative_to(generate_docs.ROOT))
        for path, content in generate_docs.rendered().items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    assert stale == [], f"run `make docs`; stale: {stale}"


def test_asyncapi_documents_every_catalog_event_with_its_producer_and_consumers() -> None:
    document = yaml.safe_load((generate_docs.DOCS / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert document["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {model.event_type for model in CATALOG}
    sends = {
        op["channel"]["$ref"] for op in document["operations"].values() if op["action"] == "send"
    }
    assert len(sends) == len(CATALOG)
    receivers = {
        name.split("_receives_")[0]
        for name, op in document["operations"].items()
        if op["action"] == "receive"
    }
    # The pipeline consumes its own ai_interview_completed to move applications on after commit.
    assert receivers == {"notifier", "pipeline", "scheduler", "talentpool"}


def test_asyncapi_references_all_resolve() -> None:
    text = (generate_docs.DOCS / "asyncapi.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    refs: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    refs.append(value)
                else:
                    collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    assert refs
    for ref in refs:
        node: object = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict) and part in node, f"unresolved {ref}"
            node = node[part]
