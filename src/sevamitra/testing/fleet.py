"""The platform's processes for crash tests: started, killed with SIGKILL, restarted, and kept running.

Each slot is one long-running command (`sevamitra serve --no-worker`, `sevamitra worker`, the
emulator) with its own log, appended to across restarts. `supervise` restarts a process that exited
without being killed on purpose, as an orchestrator would, and counts those exits.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CLI = [sys.executable, "-c", "from sevamitra.cli.main import main; main()"]  # `sevamitra ...`
EMULATOR = [sys.executable, "-m", "sevamitra.testing.emulator_process"]


@dataclass(eq=False)
class Slot:
    name: str  # web-0, worker-1, emulator, ...
    kind: str  # serve | worker | emulator
    argv: list[str]  # the whole command
    port: int | None = None  # where it answers HTTP (serve and emulator)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    starts: int = 0
    kills: int = 0
    exits: int = 0  # exits nobody asked for


class Fleet:
    """Processes sharing one environment; logs under `logs`."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.slots: list[Slot] = []
        self._held: set[Slot] = set()  # killed on purpose, their restart to come

    def add(self, name: str, kind: str, argv: list[str], port: int | None = None) -> Slot:
        slot = Slot(name=name, kind=kind, argv=argv, port=port)
        self.slots.append(slot)
        return slot

    def of_kind(self, kind: str) -> list[Slot]:
        return [slot for slot in self.slots if slot.kind == kind]

    def start(self, slot: Slot) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{slot.name}.log").open("ab") as log:
            log.write(f"=== start {slot.starts + 1} at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            slot.process = subprocess.Popen(  # noqa: S603 (our own command)
                slot.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        slot.starts += 1
        self._held.discard(slot)

    async def kill(self, slot: Slot) -> None:
        """SIGKILL, and wait until it is gone; `start` brings it back."""
        self._held.add(slot)
        process = slot.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(process.wait)
        slot.kills += 1

    async def supervise(self, every: float = 0.5) -> None:
        """Restart any process that exited on its own (until cancelled)."""
        while True:
            await asyncio.sleep(every)
            for slot in self.slots:
                if slot in self._held or slot.process is None or slot.process.poll() is None:
                    continue
                slot.exits += 1
                self.start(slot)

    def stop(self) -> None:
        """SIGTERM to all, then SIGKILL to any still there after 15 s."""
        self._held.update(self.slots)
        running = [s.process for s in self.slots if s.process is not None and s.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def tail(self, slot: Slot, lines: int = 15) -> str:
        try:
            text = (self.logs / f"{slot.name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
