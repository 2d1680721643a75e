"""What a log line is about: the HTTP request being answered, or the citizen's message a turn processes.

Context variables, so that concurrent requests and turns each see their own; the logging adapter adds
them to every line. Opaque ids only, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
MESSAGE_ID: ContextVar[str | None] = ContextVar("message_id", default=None)  # the inbound WhatsApp message


@contextmanager
def bound(variable: ContextVar[str | None], value: str | None) -> Iterator[None]:
    """`variable` holds `value` inside the block, and what it held before afterwards."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)
