"""OpenTelemetry traces, optional: with `tracing` on every request is a server span; off, nothing of
OpenTelemetry is loaded or installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sevamitra.adapters import tracing
from sevamitra.adapters.tracing import exporter_from_environment, install_tracing, span
from sevamitra.bootstrap import build
from sevamitra.settings import Settings
from sevamitra.web.app import create_app


async def get(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.get(path)


def settings_for(tmp_path: Path, *, tracing_on: bool) -> Settings:
    return Settings(
        env="dev",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        tracing=tracing_on,
    )


async def test_a_request_to_healthz_is_a_server_span(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exported = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "exporter_from_environment", lambda: exported)
    platform = build(settings_for(tmp_path, tracing_on=True))
    try:
        app = create_app(platform, run_worker=False)
        answer = await get(app, "/healthz")
        assert answer.status_code == 200
        provider: TracerProvider = app.state.tracer_provider
        provider.force_flush()
    finally:
        await platform.aclose()
    [server] = [s for s in exported.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server.name == "GET /healthz"
    assert server.attributes is not None
    assert server.attributes.get("http.status_code", server.attributes.get("http.response.status_code")) == 200
    assert server.resource.attributes["service.name"] == "sevamitra"


async def test_spans_name_the_route_never_the_path_or_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exported = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "exporter_from_environment", lambda: exported)
    platform = build(settings_for(tmp_path, tracing_on=True))
    secret = "verify-token-never-in-a-span"
    try:
        app = create_app(platform, run_worker=False)
        await get(app, f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={secret}&hub.challenge=7")
        await get(app, "/p/12/0123456789abcdef0123456789abcdef.jpg")  # a photo link: its signature is a key
        await get(app, "/no-such-page/with-a-token")
        app.state.tracer_provider.force_flush()
    finally:
        await platform.aclose()
    servers = [s for s in exported.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /webhooks/whatsapp", "GET /p/{id}/{signature}.jpg", "GET"]
    for server in servers:
        shown = repr(dict(server.attributes or {})) + server.name
        assert secret not in shown and "0123456789abcdef" not in shown and "with-a-token" not in shown


async def test_spans_inside_a_request_are_its_children() -> None:
    async def work(_: Request) -> Response:
        with span("turn", citizen_count=1):
            return PlainTextResponse("done")

    app = Starlette(routes=[Route("/work", work)])
    exported = InMemorySpanExporter()
    provider = install_tracing(app, "sevamitra-test", exporter=exported)
    assert (await get(app, "/work")).text == "done"
    provider.force_flush()
    spans = {s.name: s for s in exported.get_finished_spans()}
    server = spans["GET /work"]
    turn = spans["turn"]
    assert turn.parent is not None and turn.parent.span_id == server.context.span_id
    assert turn.attributes is not None and turn.attributes["citizen_count"] == 1
    assert server.resource.attributes["service.name"] == "sevamitra-test"


async def test_tracing_off_installs_nothing(tmp_path: Path) -> None:
    platform = build(settings_for(tmp_path, tracing_on=False))
    try:
        app = create_app(platform, run_worker=False)
        assert not any("OpenTelemetry" in m.cls.__name__ for m in app.user_middleware)  # type: ignore[attr-defined]
        assert not hasattr(app.state, "tracer_provider")
    finally:
        await platform.aclose()


def test_the_web_app_does_not_import_opentelemetry_unless_asked() -> None:
    # neither the adapter nor the SDK (the redis client, for one, loads parts of OpenTelemetry's API itself)
    loaded = "{'sevamitra.adapters.tracing', 'opentelemetry.sdk.trace'} & set(sys.modules)"
    probe = f"import sys, sevamitra.web.app; print({loaded})"
    command = [sys.executable, "-c", probe]
    shown = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)  # noqa: S603 (this Python, fixed arguments)
    assert shown.stdout.strip() == "set()"


def test_the_exporter_follows_the_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(exporter_from_environment(), ConsoleSpanExporter)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert exporter_from_environment() is None
    monkeypatch.delenv("OTEL_TRACES_EXPORTER")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.invalid:4318")
    exporter = exporter_from_environment()  # OTLP when its package is installed, else the console
    assert type(exporter).__name__ in ("OTLPSpanExporter", "ConsoleSpanExporter")
