"""What newsbrief measures about itself: one catalogue of metrics, and the port that
counts them. The core counts through :class:`Metrics`; the app exports them in Prometheus
format (``NEWSBRIEF_METRICS_LISTEN``); without it they go nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from summarizer.base import Metrics, NoMetrics

__all__ = ["CATALOGUE", "Kind", "MetricSpec", "Metrics", "NoMetrics"]


class Kind(StrEnum):
    """How a metric behaves."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its name, kind, meaning and label names."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()


CATALOGUE: tuple[MetricSpec, ...] = (
    MetricSpec(
        "newsbrief_feed_fetches_total", Kind.COUNTER, "Feed fetches by result.", ("result",)
    ),
    MetricSpec("newsbrief_feeds", Kind.GAUGE, "Followed feeds by state.", ("state",)),
    MetricSpec("newsbrief_articles_stored_total", Kind.COUNTER, "New articles stored."),
    MetricSpec(
        "newsbrief_outbox_rows",
        Kind.GAUGE,
        "Outbox rows by platform and state.",
        ("platform", "state"),
    ),
    MetricSpec(
        "newsbrief_delivery_seconds",
        Kind.HISTOGRAM,
        "Time from a post being queued to the platform having it.",
        ("platform",),
    ),
    MetricSpec(
        "newsbrief_sends_total", Kind.COUNTER, "Send attempts by result.", ("platform", "result")
    ),
    MetricSpec(
        "newsbrief_rate_limited_total", Kind.COUNTER, "429 answers by platform.", ("platform",)
    ),
    MetricSpec("newsbrief_llm_calls_total", Kind.COUNTER, "LLM requests by result.", ("result",)),
    MetricSpec("newsbrief_llm_tokens_total", Kind.COUNTER, "LLM tokens used."),
    MetricSpec("newsbrief_poll_votes_total", Kind.COUNTER, "Reader votes recorded.", ("platform",)),
    MetricSpec("newsbrief_leases_held", Kind.GAUGE, "Leases this worker holds.", ("kind",)),
)
