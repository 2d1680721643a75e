"""CPU per conversation turn, by phase, in one process: where the time of the turn path goes.

    .venv/bin/python benchmarks/profile_turns.py [--citizens 50] [--database-url URL] [--profile]

Citizens walk `bench turns`' conversation in lock-step: all of them send their next message, then
the platform's worker and sender run until every reply has reached a Graph API stub in this process.
Printed: CPU milliseconds per turn spent storing the deliveries (`receive`), working out the turns
(`converse`) and sending the replies (`send`, the stub's share included), and wall time per turn.
With a PostgreSQL URL, give a database of its own: it is migrated and left as it is.
`--profile` adds cProfile's top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from sevamitra.actions.converse import converse
from sevamitra.bootstrap import build, migrate
from sevamitra.cli.bench_turns import AADHAAR, CONVERSATION, Citizen, Citizens, GraphStub, aadhaar
from sevamitra.emulator.payloads import encode, message_update
from sevamitra.settings import Settings


def bodies(citizens: Citizens, walkers: list[Citizen], step: int) -> list[bytes]:
    """Each citizen's webhook body for message `step` of the conversation."""
    out = []
    for citizen in walkers:
        kind, value, title = CONVERSATION[step].kind, CONVERSATION[step].value, CONVERSATION[step].title
        content: dict[str, object]
        if kind == "text":
            content = {"type": "text", "text": {"body": aadhaar(citizen.number) if value == AADHAAR else value}}
        else:
            content = {"type": "interactive", "interactive": {"type": kind, kind: {"id": value, "title": title}}}
        message = {"from": citizen.wa_id, "id": f"wamid.p.{citizen.number}.{step}", "timestamp": "1768469400"}
        update = message_update(
            citizens.config, name="Citizen", wa_id=citizen.wa_id, user_id=citizen.user_id, message=message | content
        )
        out.append(encode(update))
    return out


async def run(count: int, database_url: str | None, profile: bool) -> None:
    work = Path(tempfile.mkdtemp())
    stub = GraphStub(lambda *_: None)
    port = await stub.start("127.0.0.1")
    settings = Settings(
        database_url=database_url or f"sqlite+aiosqlite:///{work}/platform.db",
        graph_api_url=f"http://127.0.0.1:{port}",
        send_rate_per_second=1000,
        speech_backend="none",
        assistant_embeddings=False,
        log_dir=work / "tlog",
        keys_dir=work / "keys",
        cache_dir=work / "cache",
    )
    await asyncio.to_thread(migrate, settings)
    platform = build(settings)
    await platform.start()
    citizens = Citizens("127.0.0.1", "unused")
    walkers = [Citizen() for _ in range(count)]
    for citizen in walkers:
        citizens.begin(citizen)
    phases = dict.fromkeys(("receive", "converse", "send"), 0.0)
    profiler = cProfile.Profile()
    wall = 0.0
    for step in range(len(CONVERSATION)):
        deliveries = bodies(citizens, walkers, step)
        started = time.perf_counter()
        if profile:
            profiler.enable()
        cpu = time.process_time()
        await asyncio.gather(*(platform.receive(body) for body in deliveries))  # as concurrent webhooks
        phases["receive"] += time.process_time() - cpu
        while True:
            cpu = time.process_time()
            done = await converse(platform.turns, limit=count)
            phases["converse"] += time.process_time() - cpu
            cpu = time.process_time()
            done += await platform.sender.drain(limit=4 * count)
            phases["send"] += time.process_time() - cpu
            if not done:
                break
        if profile:
            profiler.disable()
        wall += time.perf_counter() - started
    turns = count * len(CONVERSATION)
    print(f"{turns} turns of {count} citizens on {'PostgreSQL' if database_url else 'SQLite'}")
    print("CPU ms per turn: " + ", ".join(f"{name} {seconds * 1000 / turns:.2f}" for name, seconds in phases.items()))
    print(f"total {sum(phases.values()) * 1000 / turns:.2f} ms CPU, {wall * 1000 / turns:.2f} ms wall per turn")
    await platform.aclose()
    await stub.close()
    if profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    asyncio.run(run(options.citizens, options.database_url, options.profile))


if __name__ == "__main__":
    main()
