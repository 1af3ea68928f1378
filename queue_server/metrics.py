"""Prometheus metrics: request latency and queue activity, served as text at /metrics."""
from __future__ import annotations

import time

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from .domain.events import TICKET_UPDATED, Event

REQUEST_SECONDS = Histogram(
    "motcua_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
QUEUE_EVENTS = Counter("motcua_queue_events_total", "Queue events published", ["office", "event"])
MINUTES = (30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
TICKET_WAIT = Histogram("motcua_ticket_wait_seconds", "How long a served ticket waited to be called, per office",
                        ["office"], buckets=MINUTES)
TICKET_SERVICE = Histogram("motcua_ticket_service_seconds", "How long a ticket was served at the counter, per office",
                           ["office"], buckets=MINUTES)


def count_event(event: Event) -> None:
    office = str(event.office_id)
    QUEUE_EVENTS.labels(office=office, event=event.name).inc()
    if event.name == TICKET_UPDATED:
        ticket = event.data.get("ticket") or {}
        if ticket.get("status") == "finished" and ticket.get("served_s") is not None:
            TICKET_WAIT.labels(office=office).observe(ticket["waited_s"])
            TICKET_SERVICE.labels(office=office).observe(ticket["served_s"])


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

