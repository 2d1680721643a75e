"""Test controls under `/_control`: inject Graph API faults, change the accepted access token, reset,
inspect webhook deliveries."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.errors import DEFAULT_CODE_FOR_STATUS
from sevamitra.emulator.http_utils import json_object
from sevamitra.emulator.state import Fault

MAX_HOLD_SECONDS = 600.0


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_control/faults", self.faults, methods=["POST"]),
            Route("/_control/access-token", self.access_token, methods=["POST"]),
            Route("/_control/reset", self.reset, methods=["POST"]),
            Route("/_control/deliveries", self.deliveries, methods=["GET"]),
            Route("/_control/citizens/{wa_id}/close-window", self.close_window, methods=["POST"]),
        ]

    async def faults(self, request: Request) -> Response:
        """`{"statuses": [429, 500], "error_codes": {"500": 131000}}`: the next sends fail so, in order. And/or
        `{"faults": [{"status": 401, "code": 190}, {"kind": "timeout", "seconds": 12}, {"kind": "reset"}]}`:
        faults of every kind (see `emulator.py`), queued after the statuses."""
        data = await json_object(request) or {}
        statuses, codes = data.get("statuses", [] if "faults" in data else None), data.get("error_codes") or {}
        if not isinstance(statuses, list) or not all(isinstance(s, int) and 400 <= s <= 599 for s in statuses):
            return JSONResponse({"error": "statuses must be a list of HTTP error statuses"}, status_code=400)
        if not isinstance(codes, dict) or not all(isinstance(v, int) for v in codes.values()):
            return JSONResponse({"error": "error_codes must map HTTP statuses to Meta codes"}, status_code=400)
        listed = data.get("faults", [])
        faults = [_fault(item) for item in listed] if isinstance(listed, list) else [None]
        if None in faults:
            return JSONResponse({"error": _FAULT_SHAPE}, status_code=400)
        try:
            pending = self.emulator.inject_faults(statuses, codes)
        except ValueError:
            return JSONResponse({"error": "error_codes keys must be HTTP statuses"}, status_code=400)
        if faults:
            pending = self.emulator.state.inject(f for f in faults if f is not None)
        return JSONResponse({"pending": pending})

    async def access_token(self, request: Request) -> Response:
        """`{"access_token": "..."}`: the only token the Graph API accepts from now on (reset restores it)."""
        data = await json_object(request) or {}
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            return JSONResponse({"error": "access_token must be a non-empty string"}, status_code=400)
        self.emulator.set_access_token(token)
        return JSONResponse({"access_token": "changed"})

    async def reset(self, request: Request) -> Response:
        self.emulator.reset()
        return JSONResponse({"reset": True})

    async def deliveries(self, request: Request) -> Response:
        return JSONResponse({"deliveries": [d.to_json() for d in self.emulator.webhooks.history]})

    async def close_window(self, request: Request) -> Response:
        wa_id = request.path_params["wa_id"]
        if self.emulator.state.citizen(wa_id) is None:
            return JSONResponse({"error": "no such citizen"}, status_code=404)
        self.emulator.close_window(wa_id)
        return JSONResponse({"closed": wa_id})


_FAULT_SHAPE = (
    'each fault is {"status": 400-599, "code": int} (kind "error", the default), '
    f'{{"kind": "timeout", "seconds": 0-{MAX_HOLD_SECONDS:g}}} or {{"kind": "reset"}}'
)


def _fault(item: Any) -> Fault | None:
    """One fault of the `faults` list; None when it is not one."""
    if not isinstance(item, dict):
        return None
    kind = item.get("kind", "error")
    if kind == "reset":
        return Fault(0, 0, kind="reset")
    if kind == "timeout":
        seconds = item.get("seconds", 30.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= MAX_HOLD_SECONDS:
            return None
        return Fault(0, 0, kind="timeout", seconds=float(seconds))
    status = item.get("status")
    if kind != "error" or not isinstance(status, int) or not 400 <= status <= 599:
        return None
    code = item.get("code", DEFAULT_CODE_FOR_STATUS.get(status, 1))
    return Fault(status, code) if isinstance(code, int) and not isinstance(code, bool) else None
