"""Test controls under `/_control`: inject Graph API faults, reset, inspect webhook deliveries."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.emulator.emulator import Emulator
from sevamitra.emulator.http_utils import json_object


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/_control/faults", self.faults, methods=["POST"]),
            Route("/_control/reset", self.reset, methods=["POST"]),
            Route("/_control/deliveries", self.deliveries, methods=["GET"]),
            Route("/_control/citizens/{wa_id}/close-window", self.close_window, methods=["POST"]),
        ]

    async def faults(self, request: Request) -> Response:
        """`{"statuses": [429, 500], "error_codes": {"500": 131000}}`: the next sends fail so, in order."""
        data = await json_object(request) or {}
        statuses, codes = data.get("statuses"), data.get("error_codes") or {}
        if not isinstance(statuses, list) or not all(isinstance(s, int) and 400 <= s <= 599 for s in statuses):
            return JSONResponse({"error": "statuses must be a list of HTTP error statuses"}, status_code=400)
        if not isinstance(codes, dict) or not all(isinstance(v, int) for v in codes.values()):
            return JSONResponse({"error": "error_codes must map HTTP statuses to Meta codes"}, status_code=400)
        try:
            pending = self.emulator.inject_faults(statuses, codes)
        except ValueError:
            return JSONResponse({"error": "error_codes keys must be HTTP statuses"}, status_code=400)
        return JSONResponse({"pending": pending})

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
