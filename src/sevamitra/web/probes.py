"""What orchestrators and monitoring ask: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.bootstrap import Platform

log = logging.getLogger(__name__)


def probe_routes(platform: Platform) -> list[BaseRoute]:
    async def alive(_: Request) -> Response:
        """The process answers: nothing else is asked (a restart would not mend the database)."""
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> Response:
        problem = await platform.readiness()
        if problem is not None:
            log.warning("not ready: %s", problem)
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def metrics(_: Request) -> Response:
        body, content_type = await platform.metrics_exposition()
        return Response(body, media_type=content_type)

    routes: list[BaseRoute] = [Route("/healthz", alive), Route("/readyz", ready)]
    if platform.settings.metrics:
        routes.append(Route("/metrics", metrics))
    return routes
