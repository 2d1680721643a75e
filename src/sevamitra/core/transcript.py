"""Outbound messages as plain text: for the terminal chat and for golden conversation transcripts."""

from __future__ import annotations

from sevamitra.core.messages import (
    AudioOut,
    ButtonsOut,
    CtaUrlOut,
    DocumentOut,
    ImageOut,
    ListOut,
    MarkRead,
    OrderOut,
    Outbound,
    SpeechOut,
    TemplateOut,
    TextOut,
)
from sevamitra.core.payments import format_paise


def render(message: Outbound, choices: list[tuple[str, str]] | None = None) -> str:
    """The message as text; tappable choices are numbered and appended to `choices` (id, title)."""
    taps = choices if choices is not None else []
    if isinstance(message, TextOut):
        return message.body
    if isinstance(message, ButtonsOut):
        lines = [message.body]
        for button in message.buttons:
            taps.append((button.id, button.title))
            lines.append(f"  [{len(taps)}] {button.title}  <{button.id}>")
        return "\n".join(lines)
    if isinstance(message, ListOut):
        lines = [message.body, f"  ≡ {message.button}"]
        for row in (r for s in message.sections for r in s.rows):
            taps.append((row.id, row.title))
            described = f" · {row.description}" if row.description else ""
            lines.append(f"  [{len(taps)}] {row.title}{described}  <{row.id}>")
        if message.footer:
            lines.append(f"  ({message.footer})")
        return "\n".join(lines)
    if isinstance(message, CtaUrlOut):
        return f"{message.body}\n  [{message.display_text}] {message.url}"
    if isinstance(message, DocumentOut | ImageOut):
        return f"<{type(message).__name__} {message.caption or ''}>".strip()
    if isinstance(message, AudioOut):
        return "<voice note>"
    if isinstance(message, SpeechOut):
        return f"<spoken, {message.language}: {message.text}>"
    if isinstance(message, OrderOut):
        return f"{message.body}\n  [Pay {format_paise(message.amount_paise)}] order {message.reference_id}"
    if isinstance(message, TemplateOut):
        return f"<template {message.name} {message.language} {list(message.body_parameters)}>"
    assert isinstance(message, MarkRead)
    return f"<read {message.message_id}>"
