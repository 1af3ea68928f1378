"""Prometheus metrics: request latency and queue activity, served as text at /metrics."""
from __future__ import annotations

import time

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from .domain.events import Event

REQUEST_SECONDS = Histogram(
    "motcua_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
QUEUE_EVENTS = Counter("motcua_queue_events_total", "Queue events published", ["office", "event"])


def count_event(event: Event) -> None:
    QUEUE_EVENTS.labels(office=str(event.office_id), event=event.name).inc()


def render() -> tuple[bytes, int, dict]:
    return generate_latest(), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def init_app(app: Flask, bus) -> None:  # noqa: ANN001
    bus.subscribe(count_event)

    @app.before_request
    def _start() -> None:
        g._t0 = time.perf_counter()

    @app.after_request
    def _observe(response):  # noqa: ANN001, ANN202
        t0 = getattr(g, "_t0", None)
        if t0 is not None and request.endpoint != "static":
            REQUEST_SECONDS.labels(request.method, request.endpoint or "unknown", str(response.status_code)) \
                .observe(time.perf_counter() - t0)
        return response

