"""Running the web app, the worker, or the emulator alone."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import uvicorn

from sevamitra.bootstrap import build, build_emulator
from sevamitra.settings import Settings
from sevamitra.web.app import create_app


def serve(settings: Settings, host: str, port: int, *, worker: bool) -> None:
    local = f"http://{host}:{port}"
    emulator = build_emulator(settings, webhook_url=f"{local}/webhooks/whatsapp") if settings.emulator_mounted else None
    app = create_app(build(settings), run_worker=worker, emulator=emulator)
    print(f"Sevamitra on {local}/")
    print(f"  WhatsApp webhook  {local}/webhooks/whatsapp")
    if emulator is not None:
        print(f"  Emulator chat     {local}/emulator/   (Graph API at {local}/emulator)")
    print(f"  Graph API         {settings.graph_api_url}  ·  database {settings.database_url}")
    print(f"  Worker            {'in this process' if worker else 'off (run `sevamitra worker`)'}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, **uvicorn_logging(settings))


def uvicorn_logging(settings: Settings) -> dict[str, Any]:
    """In JSON, uvicorn's own lines go to the process's JSON handler instead of uvicorn's text handlers."""
    return {"log_config": None} if settings.log_format == "json" else {}


async def worker(settings: Settings) -> None:
    platform = build(settings)
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
