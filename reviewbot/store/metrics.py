"""Prometheus metrics for `/metrics`: deliveries, jobs by state, durations, GitHub calls, sandbox runs.

One registry per service instance (not the process-global one), so tests and
several apps in one process never collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _JobStates(Collector):
    """Jobs by state, read from the queue at scrape time (so every worker process is counted)."""

    def __init__(self, counts: Callable[[], dict[str, int]]):
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("reviewbot_jobs", "Jobs in the queue by state", labels=["state"])
        for state, count in sorted(self.counts().items()):
            family.add_metric([state], count)
        yield family


class _Breakers(Collector):
    """Whether the circuit to each GitHub host is open (1) or closed (0), and how often it opened."""

    def collect(self) -> Iterator[Metric]:
        from reviewbot.github.breaker import breakers

        family = GaugeMetricFamily(
            "reviewbot_github_circuit_open", "1 while GitHub at this host is considered down", labels=["host"]
        )
        opened = CounterMetricFamily(
            "reviewbot_github_circuit_opened", "Times the circuit to this host opened", labels=["host"]
        )
        for breaker in breakers():
            family.add_metric([breaker.host], 1.0 if breaker.is_open else 0.0)
            opened.add_metric([breaker.host], breaker.opened_count)
        yield family
        yield opened


class Metrics:
    def __init__(self, job_counts: Callable[[], dict[str, int]]):
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "reviewbot_deliveries",
            "Webhook deliveries by event and result",
            ["event", "result"],
            registry=self.registry,
        )
        self.webhook_seconds = Histogram(
            "reviewbot_webhook_seconds",
            "Time to answer a delivery",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
        )
        self.job_seconds = Histogram(
            "reviewbot_job_seconds",
            "Job run time by kind and result",
            ["kind", "result"],
            registry=self.registry,
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
        )
        self.github_calls = Counter(
            "reviewbot_github_api_calls",
            "GitHub API calls by installation and method",
            ["installation", "method"],
            registry=self.registry,
        )
        self.sandbox_runs = Counter(
            "reviewbot_sandbox_runs", "Sandboxed runs by status", ["status"], registry=self.registry
        )
        self.deferred = Counter(
            "reviewbot_jobs_deferred",
            "Jobs put back because GitHub was not answering",
            ["kind"],
            registry=self.registry,
        )
        self.reconcile_skipped = Counter(
            "reviewbot_reconcile_skipped", "Reconcile rounds skipped: GitHub down", registry=self.registry
        )
        self.registry.register(_JobStates(job_counts))
        self.registry.register(_Breakers())

    def render(self) -> bytes:
        return generate_latest(self.registry)
