"""The turn worker: each citizen's pending messages, in order, through the conversation engine.

One transaction per citizen turn holds the new conversation state, the inbox rows marked done
and the replies in the outbox, so a crash anywhere leaves either all of it or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sevamitra.core.conversation import Context, ConversationState, step
from sevamitra.core.messages import Event, Inbound, MarkRead, Recipient, outbound_to_dict
from sevamitra.core.ports import Clock, Conversations

log = logging.getLogger(__name__)

Parse = Callable[[str, dict[str, Any]], Event | None]


async def converse(conversations: Conversations, parse: Parse, context: Context, clock: Clock, *, limit: int) -> int:
    """Process waiting citizens; returns how many messages were handled."""
    handled = 0
    for address in await conversations.addresses_waiting(limit):
        now = clock.now()
        async with conversations.turn(address, now) as turn:
            if turn is None:
                continue  # another worker has this citizen now
            state = ConversationState.from_dict(turn.state) if turn.state else ConversationState()
            for record in turn.pending:
                event = parse(record.kind, record.fragment)
                if not isinstance(event, Inbound):
                    log.warning("inbox item %s is not a message; set aside", record.id)
                    turn.done(record, error="not a message")
                    continue
                recipient = Recipient.of(event.sender)
                result = step(state, event, context, now)
                state = result.state
                read = MarkRead(
                    message_id=event.message_id, typing=bool(result.replies)
                )  # "typing…" until replies land
                turn.enqueue(recipient, outbound_to_dict(read), now, cause=record.id)
                for reply in result.replies:
                    turn.enqueue(recipient, outbound_to_dict(reply), now, cause=record.id)
                turn.save_state(state.to_dict(), recipient, now)
                turn.done(record)
                handled += 1
    return handled
