"""The AsyncAPI 3 document of the suite, generated from the event catalog.

Each event type is a channel whose address is its routing key on the topic exchange; the
producing service has a ``send`` operation on it and every consuming service a ``receive``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.events.envelope import CONTENT_TYPE, CloudEvent, EventData

ASYNCAPI_VERSION = "3.1.0"


def _message_name(model: type[EventData]) -> str:
    return model.__name__


def _schemas(models: Iterable[type[EventData]]) -> dict[str, Any]:
    ref = "#/components/schemas/{model}"
    schemas: dict[str, Any] = {}
    envelope = CloudEvent.model_json_schema(ref_template=ref)
    for name, definition in envelope.pop("$defs", {}).items():
        schemas[name] = definition
    schemas["CloudEvent"] = envelope
    for model in models:
        data = model.model_json_schema(ref_template=ref)
        for name, definition in data.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[model.__name__] = data
        schemas[f"{model.__name__}Envelope"] = {
            "allOf": [
                {"$ref": ref.format(model="CloudEvent")},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": model.event_type},
                        "source": {"const": f"/{model.producer}"},
                        "data": {"$ref": ref.format(model=model.__name__)},
                    },
                },
            ]
        }
    return schemas


def build(
    catalog: Iterable[type[EventData]],
    consumers: Mapping[str, Iterable[str]],
    *,
    namespace: str = "recruiting",
    version: str = "0.1.0",
) -> dict[str, Any]:
    """The document for ``catalog``; ``consumers`` maps a service to the event types it handles."""
    models = sorted(catalog, key=lambda m: m.event_type)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in models:
        name = _message_name(model)
        channel_id = model.event_type.replace(".", "_")
        message_ref = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": model.event_type,
            "title": model.event_type,
            "summary": model.summary,
            "messages": {name: message_ref},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": f"{namespace}.events",
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": "0.3.0",
                }
            },
        }
        channel_ref = {"$ref": f"#/channels/{channel_id}"}
        operations[f"{model.producer}_sends_{channel_id}"] = {
            "action": "send",
            "channel": channel_ref,
            "summary": f"{model.producer} publishes {model.event_type} through its outbox.",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
        for service, types in sorted(consumers.items()):
            if model.event_type in set(types):
                operations[f"{service}_receives_{channel_id}"] = {
                    "action": "receive",
                    "channel": channel_ref,
                    "summary": f"{service} handles {model.event_type} "
                    f"(queue {namespace}.{service}).",
                    "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
                }
        messages[name] = {
            "name": model.event_type,
            "title": model.__name__,
            "summary": model.summary,
            "contentType": CONTENT_TYPE,
            "payload": {"$ref": f"#/components/schemas/{name}Envelope"},
            "correlationId": {
                "description": "Shared by everything one original request caused.",
                "location": "$message.payload#/correlationid",
            },
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Recruiting suite events",
            "version": version,
            "description": (
                "Events exchanged by the pipeline, scheduler, notifier and talent pool services. "
                "Every message is a CloudEvents 1.0 envelope in structured JSON mode; `id` is the "
                "deduplication key, `sequence` the aggregate's version (consumers ignore older "
                "versions), `correlationid` ties together everything one request caused."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "RabbitMQ of a development machine.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas(models)},
    }
