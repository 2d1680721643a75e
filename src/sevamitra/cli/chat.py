"""`sevamitra chat`: talk to the conversation engine in a terminal, as a citizen would on WhatsApp.

Buttons and list rows are numbered; typing a number taps it. Nothing is sent anywhere.
"""

from __future__ import annotations

import itertools

from sevamitra.bootstrap import SystemClock, build_context
from sevamitra.core.conversation import ConversationState, step
from sevamitra.core.messages import ChoiceIn, Inbound, Sender, TextIn
from sevamitra.core.transcript import render
from sevamitra.settings import Settings


def chat(settings: Settings, wa_id: str) -> None:
    context = build_context(settings)
    clock = SystemClock()
    sender = Sender(wa_id=wa_id, name="Terminal")
    state = ConversationState()
    choices: list[tuple[str, str]] = []
    print('Type as a citizen would ("hi" to start); Ctrl-D to leave.')
    for n in itertools.count(1):
        try:
            typed = input("you> ").strip()
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
        result = step(state, inbound, context, now)
        state = result.state
        choices = []
        for reply in result.replies:
            print("\n" + render(reply, choices) + "\n")
