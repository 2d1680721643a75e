"""Log lines as text (the default) or as one JSON object a line for log collectors (python-json-logger).

A JSON line holds time, level, logger and message, and the request id and the inbound WhatsApp
message id when the line was logged while answering a request or processing a message.

No line holds a phone or Aadhaar number whole: `MaskNumbers` cuts any run of 10 to 15 digits (and
numbers written in groups, `98765 43210`, `1234 5678 9012`) to its last four, in the message and in
any traceback (an error's text may quote a database row or the Graph API's words about a recipient).
"""

from __future__ import annotations

import logging
import re
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter

from sevamitra.core.logcontext import MESSAGE_ID, REQUEST_ID

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("alembic", "fontTools")  # chatty at INFO


_NUMBERS = re.compile(
    r"(?<![\w.+])\+?\d{10,15}(?!\w|\.\d)"  # 919876543210, +919876543210
    r"|(?<![\w.])\d{4}[ -]\d{4}[ -]\d{4}(?![\w-])"  # Aadhaar as printed: 1234 5678 9012
    r"|(?<![\w.+])(?:\+?91[ -]?)?[6-9]\d{4}[ -]\d{5}(?![\w-])"  # +91 98765 43210
)


def mask_numbers(text: str) -> str:
    """`text` with each phone-like or Aadhaar-like number cut to its last four digits."""
    return _NUMBERS.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    digits = [c for c in match.group() if c.isdigit()]
    return "*" * (len(digits) - 4) + "".join(digits[-4:])


class MaskNumbers(logging.Filter):
    """Masks phone and Aadhaar numbers in a record's message and traceback, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
            record.exc_info = None  # formatters use the masked text, not the exception again
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
        return True


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
    handler.addFilter(MaskNumbers())
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: Literal["text", "json"]) -> None:
    """The process's logging, at INFO (unless configured already, as under pytest)."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(log_format)])
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
