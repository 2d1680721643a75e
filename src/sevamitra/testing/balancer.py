"""A TCP load balancer for crash tests: one port in front of several web processes.

Each new connection goes to the next backend that accepts one (round robin); bytes are copied both
ways until either side closes. A backend killed mid-request drops its connections, as behind a real
balancer: the client sees its request fail and delivers it again, to a backend still alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence

_CHUNK = 1 << 16


class Balancer:
    """Listens on `host` (a free port, or `port`) and spreads connections over `backends` (ports)."""

    def __init__(self, host: str, backends: Sequence[int], *, port: int = 0) -> None:
        self.host = host
        self.port = port
        self.backends = list(backends)
        self.connections = 0  # accepted from clients
        self.refused = 0  # that no backend would take
        self._turn = itertools.count()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.connections += 1
        try:
            backend = await self._connect()
            if backend is None:
                self.refused += 1
                return
            backend_reader, backend_writer = backend
            try:
                await _splice(client_reader, client_writer, backend_reader, backend_writer)
            finally:
                backend_writer.close()
        finally:
            client_writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The next backend that takes a connection; None when none does."""
        first = next(self._turn)
        for n in range(len(self.backends)):
            port = self.backends[(first + n) % len(self.backends)]
            with contextlib.suppress(OSError):
                return await asyncio.open_connection(self.host, port)
        return None


async def _splice(
    a_reader: asyncio.StreamReader,
    a_writer: asyncio.StreamWriter,
    b_reader: asyncio.StreamReader,
    b_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until either side closes or fails; then both are done."""
    ways = [asyncio.create_task(_copy(a_reader, b_writer)), asyncio.create_task(_copy(b_reader, a_writer))]
    try:
        await asyncio.wait(ways, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for way in ways:
            way.cancel()
        await asyncio.gather(*ways, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
