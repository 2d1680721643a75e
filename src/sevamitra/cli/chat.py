"""`sevamitra chat`: talk to the conversation engine in a terminal, as a citizen would on WhatsApp.

Buttons and list rows are numbered; typing a number taps it. Applications are kept in memory and
instant services are decided against the shipped registries. Nothing is sent anywhere.
"""

from __future__ import annotations

import asyncio
import itertools

from sevamitra.bootstrap import SystemClock, build_context, build_registry, respond
from sevamitra.core.conversation import ConversationState
from sevamitra.core.messages import ChoiceIn, Inbound, Recipient, Sender, TextIn
from sevamitra.core.transcript import render
from sevamitra.settings import Settings
from sevamitra.testing.memory import MemoryTurn


def chat(settings: Settings, wa_id: str) -> None:
    asyncio.run(_chat(settings, wa_id))


async def _chat(settings: Settings, wa_id: str) -> None:
    context, registry, clock = build_context(settings), build_registry(settings), SystemClock()
    sender = Sender(wa_id=wa_id, name="Terminal")
    state, turn = ConversationState(), MemoryTurn()
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
        state, replies = await respond(context, registry, turn, state, inbound, Recipient.of(sender), now)
        choices = []
        for reply in replies:
            print("\n" + render(reply, choices) + "\n")
