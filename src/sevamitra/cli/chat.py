"""`sevamitra chat`: talk to the conversation engine in a terminal, as a citizen would on WhatsApp.

Buttons and list rows are numbered; typing a number taps it. Applications and consents are kept in
memory and instant services are decided against the shipped registries. Nothing is sent anywhere: a
copy of one's data ("my data") is written to var/chat-documents.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from sevamitra.actions.privacy import Rights, Upload
from sevamitra.bootstrap import SystemClock, build_context, build_registry, render_readable, respond
from sevamitra.core.conversation import ConversationState
from sevamitra.core.messages import ChoiceIn, Inbound, Recipient, Sender, TextIn
from sevamitra.core.transcript import render
from sevamitra.settings import Settings
from sevamitra.testing.memory import MemoryTurn
from sevamitra.testing.rights import MemoryRights

DOCUMENTS = Path("var/chat-documents")


def chat(settings: Settings, wa_id: str) -> None:
    asyncio.run(_chat(settings, wa_id))


async def _chat(settings: Settings, wa_id: str) -> None:
    context, registry, clock = build_context(settings), build_registry(settings), SystemClock()
    sender = Sender(wa_id=wa_id, name="Terminal")
    state, turn = ConversationState(), MemoryTurn()
    rights = Rights(store=MemoryRights(), upload=_saved_in(DOCUMENTS), render=render_readable)
    choices: list[tuple[str, str]] = []
    print('Type as a citizen would ("hi" to start); Ctrl-D to leave.')
    for n in itertools.count(1):
        try:
            typed = (await asyncio.to_thread(input, "you> ")).strip()
        except EOFError:
            print()
            return
        now = clock.now()
        inbound: Inbound
        if typed.isdigit() and 1 <= int(typed) <= len(choices):
            choice_id, title = choices[int(typed) - 1]
            inbound = ChoiceIn(message_id=f"chat.{n}", sender=sender, sent_at=now, choice_id=choice_id, title=title)
        else:
            inbound = TextIn(message_id=f"chat.{n}", sender=sender, sent_at=now, body=typed)
        state, replies = await respond(
            context, registry, turn, state, inbound, Recipient.of(sender), now, rights=rights
        )
        choices = []
        for reply in replies:
            print("\n" + render(reply, choices) + "\n")


def _saved_in(folder: Path) -> Upload:
    """Documents for the citizen written to `folder` (the terminal has no channel to upload them to)."""

    async def save(recipient: Recipient, data: bytes, mime_type: str, filename: str) -> str:
        path = folder / filename
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, data)
        print(f"(written to {path})")
        return str(path)

    return save
