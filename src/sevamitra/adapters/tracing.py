"""OpenTelemetry traces (optional extra `tracing`; on with `SEVAMITRA_TRACING=true`).

Every HTTP request becomes a server span. Spans leave by OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and `opentelemetry-exporter-otlp` is installed,
configured by the SDK's own `OTEL_*` variables; else they are written to the console, and
`OTEL_TRACES_EXPORTER=none` drops them. This module is the only one that imports OpenTelemetry.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from starlette.applications import Starlette

log = logging.getLogger(__name__)
_tracer: trace.Tracer | None = None  # the last installed provider's, for `span`

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
    app.add_middleware(OpenTelemetryMiddleware, tracer_provider=provider)
    app.state.tracer_provider = provider
    return provider


@contextmanager
def span(name: str, **attributes: str | int | float | bool) -> Iterator[None]:
    """A span around a block, a child of the current one (does nothing until tracing is installed)."""
    tracer = _tracer or trace.get_tracer("sevamitra")
    with tracer.start_as_current_span(name, attributes=attributes):
        yield
