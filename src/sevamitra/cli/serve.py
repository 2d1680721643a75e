"""Running the web app, the worker, or the emulator alone."""

from __future__ import annotations

import asyncio
import gc
import signal
from typing import Any

import uvicorn
from starlette.applications import Starlette

from sevamitra.adapters.logformat import configure_logging
from sevamitra.bootstrap import build, build_emulator
from sevamitra.cli.slow_clients import GuardedHttp
from sevamitra.cli.slow_clients import configure as configure_slow_clients
from sevamitra.settings import Settings
from sevamitra.web.app import create_app


def serve(settings: Settings, host: str, port: int, *, worker: bool, processes: int = 1) -> None:
    """The web app on `host:port`; with `processes` > 1, that many web-only processes share the port (the
    worker runs apart, and the emulator, whose chats live in one process's memory, is not mounted)."""
    local = f"http://{host}:{port}"
    several = processes > 1
    if several and settings.database_url.startswith("sqlite"):
        # their commits would queue on SQLite's one write lock: measured slower than one process
        raise SystemExit("sevamitra serve: --processes needs PostgreSQL; on SQLite one process serves")
    mounted = settings.emulator_mounted and not several
    emulator = build_emulator(settings, webhook_url=f"{local}/webhooks/whatsapp") if mounted else None
    print(f"Sevamitra on {local}/" + (f" ({processes} web processes)" if several else ""))
    print(f"  WhatsApp webhook  {local}/webhooks/whatsapp")
    if emulator is not None:
        print(f"  Emulator chat     {local}/emulator/   (Graph API at {local}/emulator)")
    print(f"  Graph API         {settings.graph_api_url}  ·  database {settings.database_url}")
    in_process = worker and not several
    print(f"  Worker            {'in this process' if in_process else 'off (run `sevamitra worker`)'}")
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False}
    options |= server_options(settings)
    if several:  # each process builds its own platform from the environment, as this one read it
        uvicorn.run(WEB_ONLY, factory=True, workers=processes, **options, **uvicorn_logging(settings))
        return
    app = create_app(build(settings), run_worker=worker, emulator=emulator)
    settle_heap()
    uvicorn.run(app, **options, **uvicorn_logging(settings))


WEB_ONLY = "sevamitra.cli.serve:web_only"


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's limits on slow and greedy clients: the read deadlines and header limit of `GuardedHttp`
    (uvicorn has none of its own), the idle keep-alive, the most connections and tasks at once (more are
    answered 503), and how long a shutdown waits for requests in flight."""
    configure_slow_clients(settings)
    return {
        "http": GuardedHttp,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "limit_concurrency": settings.http_max_concurrency,
        "h11_max_incomplete_event_size": settings.http_header_max_bytes,  # should h11 ever serve instead
        "timeout_graceful_shutdown": 30,
    }


def web_only() -> Starlette:
    """The web app without a worker, built from the environment: one of `serve --processes N`'s processes."""
    settings = Settings()
    configure_logging(settings.log_format)
    configure_slow_clients(settings)  # this process's connections, with the limits this environment sets
    app = create_app(build(settings), run_worker=False)
    settle_heap()
    return app


def settle_heap() -> None:
    """Move what start-up built (the catalogue, texts, the assistant's indexes: some 240,000 objects) out of
    the cyclic garbage collector's way. Each full collection walked all of it, 120 ms with the event loop
    stopped; what is frozen is still freed by reference counting."""
    gc.collect()
    gc.freeze()


def uvicorn_logging(settings: Settings) -> dict[str, Any]:
    """In JSON, uvicorn's own lines go to the process's JSON handler instead of uvicorn's text handlers."""
    return {"log_config": None} if settings.log_format == "json" else {}


async def worker(settings: Settings) -> None:
    platform = build(settings)
    settle_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("Sevamitra worker: turns, statuses and the outbound sender")
    await platform.start()
    try:
        await platform.run_worker(stop)
    finally:
        await platform.aclose()


def emulator_only(settings: Settings, host: str, port: int, webhook_url: str) -> None:
    app = build_emulator(settings, webhook_url=webhook_url)
    print(f"WhatsApp Cloud API emulator on http://{host}:{port}/ → webhooks to {webhook_url}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, **uvicorn_logging(settings))
