"""Reading this process's Prometheus samples (the in-process services share one registry)."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """The current value of one sample, 0 if it was never recorded."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
