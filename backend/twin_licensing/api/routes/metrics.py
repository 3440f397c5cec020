"""Prometheus metrics at `/metrics`: requests by route and status, latency, and what the index and intake hold."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...db.license_state import License, Settlement
from ...db.registry_state import Twin
from ...db.uses import Use
from .paths import API_PREFIX

router = APIRouter(tags=["operations"])

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    """One registry per application (tests build many apps; the global registry would refuse duplicates)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "twin_api_requests", "HTTP requests answered", ("method", "route", "status"), registry=self.registry
        )
        self.latency = Histogram(
            "twin_api_request_duration_seconds", "Time to answer a request", ("method", "route"),
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.in_progress = Gauge("twin_api_requests_in_progress", "Requests being answered", registry=self.registry)


class IndexCollector:
    """Gauges read from the database at scrape time: index height, twins, licences, uses by state."""

    def __init__(self, read: Any) -> None:
        self.read = read

    def collect(self):
        read = self.read
        families = {
            "block": GaugeMetricFamily("twin_index_block", "Newest block the index holds"),
            "events": GaugeMetricFamily("twin_index_events", "Contract events in the index"),
            "twins": GaugeMetricFamily("twin_twins", "Twins registered"),
            "licenses": GaugeMetricFamily("twin_licenses", "Licences sold"),
            "settlements": GaugeMetricFamily("twin_settlements", "Settled items (UsesSettled events)"),
            "uses": GaugeMetricFamily("twin_uses", "Uses reported, by state", labels=["state"]),
        }
        try:
            with Session(read.engine) as session:
                version = read.read_version(session)
                chain_id = read.chain_id
                twins = session.execute(select(func.count()).select_from(Twin).where(Twin.chain_id == chain_id)).scalar_one()
                licenses, settled = session.execute(
                    select(func.count(), func.coalesce(func.sum(License.uses_settled), 0)).where(License.chain_id == chain_id)
                ).one()
                settlements = session.execute(
                    select(func.count()).select_from(Settlement).where(Settlement.chain_id == chain_id)
                ).scalar_one()
                reported = session.execute(
                    select(func.count())
                    .select_from(Use)
                    .where(Use.chain_id == chain_id, Use.genesis_hash == read.genesis_hash)
                ).scalar_one()
        except SQLAlchemyError:
            return
        families["block"].add_metric([], version.block_number or 0)
        families["events"].add_metric([], version.events or 0)
        families["twins"].add_metric([], twins)
        families["licenses"].add_metric([], licenses)
        families["settlements"].add_metric([], settlements)
        families["uses"].add_metric(["reported"], reported)
        families["uses"].add_metric(["settled"], int(settled))
        families["uses"].add_metric(["unsettled"], max(0, reported - int(settled)))
        yield from families.values()


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead): counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        metrics = self.metrics

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            metrics.in_progress.dec()
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
            # Routers included under a prefix keep their own path: put the prefix back for a full template.
            path = scope.get("path", "")
            if template != "unmatched" and not path.startswith(template.split("{")[0]):
                template = API_PREFIX + template if path.startswith(API_PREFIX + "/") else template
            method = scope.get("method", "")
            metrics.requests.labels(method, template, str(status)).inc()
            metrics.latency.labels(method, template).observe(time.perf_counter() - started)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def read_metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
