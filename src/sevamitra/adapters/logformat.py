"""Log lines as text (the default) or as one JSON object a line for log collectors (python-json-logger).

A JSON line holds time, level, logger and message, and the request id and the inbound WhatsApp
message id when the line was logged while answering a request or processing a message.
"""

from __future__ import annotations

import logging
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter

from sevamitra.core.logcontext import MESSAGE_ID, REQUEST_ID

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("alembic", "fontTools")  # chatty at INFO


class ContextIds(logging.Filter):
    """Puts the request id and the message id, where known, on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in (("request_id", REQUEST_ID), ("message_id", MESSAGE_ID)):
            value = variable.get()
            if value is not None:
                setattr(record, name, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",  # ISO 8601, UTC
    )


def log_handler(log_format: Literal["text", "json"], stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to `stream` (standard error by default) in the given format."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextIds())
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: Literal["text", "json"]) -> None:
    """The process's logging, at INFO (unless configured already, as under pytest)."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(log_format)])
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
