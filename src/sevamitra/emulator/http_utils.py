"""Small request helpers shared by the emulator's endpoints."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request


async def json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body when it is an object, else None."""
    try:
        data = json.loads(await request.body())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def own_base_url(request: Request, public_base_url: str) -> str:
    """The emulator's absolute URL (without a trailing slash), honouring the mount point."""
    if public_base_url:
        return public_base_url.rstrip("/")
    root_path = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{root_path}"
