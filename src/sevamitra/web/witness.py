"""The witness over HTTP: C2SP tlog-witness `POST /add-checkpoint`, and a line about itself at `/`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sevamitra.adapters.tlog.witness import Witness

MAX_REQUEST_BYTES = 1024 * 1024  # 63 proof hashes and a checkpoint with 100 signatures fit in a few KiB


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it grows past `limit` bytes (without reading the rest)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_witness_app(witness: Witness) -> Starlette:
    """A Starlette app serving one witness."""

    async def add_checkpoint(request: Request) -> Response:
        body = await _bounded_body(request, MAX_REQUEST_BYTES)
        if body is None:
            return PlainTextResponse(f"request body larger than {MAX_REQUEST_BYTES} bytes\n", status_code=413)
        answer = await witness.add_checkpoint(body)
        # Exactly the content type the witness chose: clients compare `text/x.tlog.size` byte for byte.
        return Response(answer.body, status_code=answer.status, headers={"content-type": answer.content_type})

    async def about(_: Request) -> Response:
        logs = ", ".join(witness.origins)
        return PlainTextResponse(
            f"C2SP tlog-witness {witness.name} (POST /add-checkpoint) for {logs}; verifier key {witness.vkey}\n"
        )

    return Starlette(
        routes=[
            Route("/", about, methods=["GET"]),
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
        ]
    )
