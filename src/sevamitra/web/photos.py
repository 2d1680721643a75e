"""Officers' photos the citizen is shown (a grievance's after photo), behind unguessable links."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sevamitra.bootstrap import Platform


def photo_routes(platform: Platform) -> list[BaseRoute]:
    async def photo(request: Request) -> Response:
        raw_id, signature = request.path_params["id"], request.path_params["signature"]
        # ASCII only: `int` refuses some digits `isdigit` accepts (²), and `compare_digest` non-ASCII text
        if not (raw_id.isascii() and raw_id.isdigit() and signature.isascii()) or not hmac.compare_digest(
            signature, platform.photo_signature(int(raw_id))
        ):
            return PlainTextResponse("not found", status_code=404)
        found = await platform.cases.attachment_by_id(int(raw_id))
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        content_type, data = found
        headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type=content_type, headers=headers)

    return [Route("/p/{id}/{signature}.jpg", photo)]
