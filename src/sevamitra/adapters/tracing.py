"""OpenTelemetry traces (optional extra `tracing`; on with `SEVAMITRA_TRACING=true`).

Every HTTP request becomes a server span, named by its route's template (`GET /pay/{token}`), never
by its path or query, which may carry tokens (pay links, photo links, the webhook's verify token).
Spans leave by OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and `opentelemetry-exporter-otlp` is installed,
configured by the SDK's own `OTEL_*` variables; else they are written to the console, and
`OTEL_TRACES_EXPORTER=none` drops them. This module is the only one that imports OpenTelemetry.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from starlette.applications import Starlette
from starlette.routing import Match

log = logging.getLogger(__name__)
_tracer: trace.Tracer | None = None  # the last installed provider's, for `span`

URL_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full")  # old and new semantic conventions
OTLP_EXPORTERS = {
    "grpc": "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
}


def exporter_from_environment() -> SpanExporter | None:
    """OTLP where an endpoint is configured (and the exporter installed), None for
    `OTEL_TRACES_EXPORTER=none`, the console otherwise."""
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return None
    env = os.environ
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
        module = OTLP_EXPORTERS.get(protocol.strip(), OTLP_EXPORTERS["http/protobuf"])
        try:
            exporter: SpanExporter = importlib.import_module(module).OTLPSpanExporter()
        except ImportError:
            log.warning("an OTLP endpoint is set but %s is not installed: spans go to the console", module)
        else:
            return exporter  # endpoint, headers, timeout and compression from the OTEL_* variables
    return ConsoleSpanExporter()


def install_tracing(app: Starlette, service_name: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Trace every request to `app` (a server span each) and every `span`; `exporter` defaults to the
    environment's."""
    global _tracer  # one tracer per process, set where the app is made
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    chosen = exporter if exporter is not None else exporter_from_environment()
    if chosen is not None:
        provider.add_span_processor(BatchSpanProcessor(chosen))
    trace.set_tracer_provider(provider)  # for libraries' own spans; OpenTelemetry keeps the first one set
    _tracer = provider.get_tracer("sevamitra")
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        default_span_details=lambda scope: _span_details(app, scope),
        server_request_hook=lambda server_span, scope: _without_path(app, server_span, scope),
    )
    app.state.tracer_provider = provider
    return provider


def _route(app: Starlette, scope: MutableMapping[str, Any]) -> str:
    """The template of the route that will answer (`/pay/{token}`); "" when none matches."""
    for route in app.router.routes:
        if route.matches(scope)[0] is Match.FULL:
            return str(getattr(route, "path", ""))
    return ""


def _span_details(app: Starlette, scope: MutableMapping[str, Any]) -> tuple[str, dict[str, str]]:
    method, route = str(scope.get("method", "HTTP")), _route(app, scope)
    return (f"{method} {route}" if route else method), ({"http.route": route} if route else {})


def _without_path(app: Starlette, server_span: trace.Span, scope: MutableMapping[str, Any]) -> None:
    """The request's path and query replaced by the route's template in the span's attributes."""
    recorded = getattr(server_span, "attributes", None) or {}
    route = _route(app, scope)
    for key in URL_ATTRIBUTES:
        if key in recorded:
            server_span.set_attribute(key, route)
    if "url.query" in recorded:
        server_span.set_attribute("url.query", "")


@contextmanager
def span(name: str, **attributes: str | int | float | bool) -> Iterator[None]:
    """A span around a block, a child of the current one (does nothing until tracing is installed)."""
    tracer = _tracer or trace.get_tracer("sevamitra")
    with tracer.start_as_current_span(name, attributes=attributes):
        yield
