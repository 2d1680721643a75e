"""The transparency log over HTTP, as C2SP tlog-tiles: the checkpoint, tiles and entry bundles;
and, as JSON, the checkpoints anchored in a public chain.

The files are served as stored (any static server could do the same): tiles never change, so they
carry a year-long immutable cache; the checkpoint changes each round and is cached for seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.core.merkle import parse_tile_path

IMMUTABLE = "public, max-age=31536000, immutable"


def routes(root: Path, vkey: str, anchors: Callable[[], Awaitable[dict[str, Any]]]) -> list[BaseRoute]:
    async def checkpoint(_: Request) -> Response:
        path = root / "checkpoint"
        if not path.exists():
            return PlainTextResponse("no checkpoint yet\n", status_code=404, headers={"Cache-Control": "no-store"})
        return Response(
            path.read_bytes(), media_type="text/plain; charset=utf-8", headers={"Cache-Control": "max-age=1"}
        )

    async def tile(request: Request) -> Response:
        relative = "tile/" + request.path_params["path"]
        try:
            parse_tile_path(relative)
        except ValueError:
            return PlainTextResponse("not a tile path\n", status_code=400)
        path = root / relative
        if not path.is_file():
            return PlainTextResponse("no such tile\n", status_code=404, headers={"Cache-Control": "no-store"})
        return Response(path.read_bytes(), media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE})

    async def key(_: Request) -> Response:
        return PlainTextResponse(vkey + "\n", headers={"Cache-Control": "max-age=300"})

    async def anchored(_: Request) -> Response:
        return JSONResponse(await anchors(), headers={"Cache-Control": "max-age=60"})

    return [
        Route("/log/checkpoint", checkpoint),
        Route("/log/anchors", anchored),
        Route("/log/vkey", key),
        Route("/log/tile/{path:path}", tile),
    ]
