"""`sevamitra bench catalogue`: a large synthetic catalogue, how fast it loads, how fast the engine turns.

The synthetic catalogue clones the shipped services' shapes (fields, fees, delivery, FAQ) under
new ids, codes and names, spread over the shipped departments: service n goes to department
n mod D and copies that department's services in turn. It is written as YAML files, one per
service, to a temporary directory and thrown away afterwards.

Figures, each measured in the run:
1. loading: `load_catalogue(tmp)` three times, in ms; the best counts (target < 1 s for 5,000);
2. engine turns: `core.conversation.step` on the loaded catalogue, each turn timed alone with
   `perf_counter_ns` after a warm-up: the department list, a department's first page of services,
   paging through a department's services, and a form turn (answering one field) when the
   engine can start a form; median and p99 over at least 1,000 turns (target < 5 ms).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sevamitra.adapters.catalogue_files import DEFAULT_CATALOGUE_DIR, load_catalogue, load_texts
from sevamitra.core.catalogue import Catalogue, Service
from sevamitra.core.conversation import Context, ConversationState, step
from sevamitra.core.idnumbers import verhoeff_digit
from sevamitra.core.messages import ButtonsOut, ChoiceIn, Inbound, ListOut, Outbound, Sender, TextIn

LOAD_TARGET_MS = 1000.0
TURN_TARGET_MS = 5.0
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
CITIZEN = Sender(wa_id="919000000001", user_id="IN.000000000000001", name="Bench")

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class BenchFailed(RuntimeError):
    """The benchmark could not run (no services to clone, or the synthetic catalogue is broken)."""


# ---------------------------------------------------------------------------- the synthetic catalogue


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)  # the safe loader, in C


def synthesize(target: Path, services: int, source: Path = DEFAULT_CATALOGUE_DIR) -> int:
    """Write a catalogue of `services` services cloned from the one at `source` into `target`; return files written."""
    if services < 1:
        raise ValueError("a catalogue needs at least one service")
    templates: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((source / "services").glob("*/*.yaml")):
        data = _read(path)
        if isinstance(data, dict):
            templates.setdefault(path.parent.name, []).append(data)
    departments = [d for d in _read(source / "departments.yaml")["departments"] if templates.get(d["id"])]
    if not departments:
        raise BenchFailed(f"{source} has no services to clone")
    used = departments[: min(services, len(departments))]  # every department written gets a service
    (target / "services").mkdir(parents=True, exist_ok=True)
    _write(target / "departments.yaml", {"departments": used})
    for n in range(services):
        department = used[n % len(used)]["id"]
        shape = templates[department]
        _write_service(target, _clone(shape[(n // len(used)) % len(shape)], n))
    return services + 1


def _clone(template: dict[str, Any], n: int) -> dict[str, Any]:
    data = dict(template)
    department, _, slug = str(template["id"]).partition(".")
    slug = slug if _SLUG.match(slug) else "service"
    data["id"] = f"{department}.{slug[:40]}-s{n:05d}"
    prefix = str(template.get("code", "S"))[:8].rstrip("-") or "S"
    data["code"] = f"{prefix}-{n:05d}"
    data["names"] = {lang: f"{name} {n}" for lang, name in dict(template["names"]).items()}
    return data


def _write_service(root: Path, data: dict[str, Any]) -> None:
    department, _, slug = data["id"].partition(".")
    folder = root / "services" / department
    folder.mkdir(exist_ok=True)
    _write(folder / f"{slug}.yaml", data)


def _write(path: Path, data: Any) -> None:
    text = yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class Timing:
    """How long one kind of operation took, over many runs, in ms."""

    name: str
    samples_ms: tuple[float, ...]
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def best_ms(self) -> float:
        return min(self.samples_ms)


def measure_load(root: Path, repeat: int = 3, cache_dir: Path | None = None) -> tuple[Timing, Catalogue]:
    """Load the catalogue at `root` `repeat` times: every file parsed, or (with `cache_dir`) the snapshot."""
    if cache_dir is not None:
        load_catalogue(root, cache_dir=cache_dir)  # the first start after a change writes the snapshot
    samples = []
    catalogue = None
    for _ in range(repeat):
        start = time.perf_counter_ns()
        catalogue = load_catalogue(root, cache_dir=cache_dir)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    assert catalogue is not None
    name = "load_catalogue (snapshot)" if cache_dir else "load_catalogue (YAML)"
    return Timing(name, tuple(samples)), catalogue


def measure_parse(root: Path, repeat: int = 3) -> tuple[Timing, Timing]:
    """Where loading spends its time: parsing every file as YAML, and the same data as JSON (a cache's cost)."""
    paths = [root / "departments.yaml", *sorted((root / "services").glob("*/*.yaml"))]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    as_json = [json.dumps(_read(p), ensure_ascii=False) for p in paths]
    timings = []
    for name, parse, inputs in (
        ("YAML parse", lambda t: yaml.load(t, Loader=yaml.CSafeLoader), texts),  # the safe loader, in C
        ("JSON parse", json.loads, as_json),
    ):
        samples = []
        for _ in range(repeat):
            start = time.perf_counter_ns()
            for text in inputs:
                parse(text)
            samples.append((time.perf_counter_ns() - start) / 1e6)
        timings.append(Timing(name, tuple(samples)))
    return timings[0], timings[1]


def _choice(choice_id: str, n: int = 0) -> ChoiceIn:
    return ChoiceIn(message_id=f"wamid.bench{n}", sender=CITIZEN, sent_at=NOW, choice_id=choice_id, title=choice_id)


def _text(body: str, n: int = 0) -> TextIn:
    return TextIn(message_id=f"wamid.bench{n}", sender=CITIZEN, sent_at=NOW, body=body)


def _time_turns(
    name: str, turns: Sequence[tuple[ConversationState, Inbound]], context: Context, count: int, note: str = ""
) -> Timing:
    """Time `count` turns (cycling through `turns`) after a warm-up of a tenth as many."""
    for i in range(max(count // 10, len(turns))):
        state, inbound = turns[i % len(turns)]
        step(state, inbound, context, NOW)
    samples = []
    clock = time.perf_counter_ns
    for i in range(count):
        state, inbound = turns[i % len(turns)]
        start = clock()
        step(state, inbound, context, NOW)
        samples.append((clock() - start) / 1e6)
    return Timing(name, tuple(samples), note)


def _ids(replies: Sequence[Outbound]) -> list[str]:
    """Every button and row id the replies offer, in order."""
    found: list[str] = []
    for reply in replies:
        if isinstance(reply, ButtonsOut):
            found += [b.id for b in reply.buttons]
        elif isinstance(reply, ListOut):
            found += [r.id for s in reply.sections for r in s.rows]
    return found


def _answer(service: Service, offered: list[str]) -> Inbound | None:
    """A valid answer to the service's first question: a tap when choices are offered, else typed text."""
    if answers := [i for i in offered if i.startswith("answer:")]:
        return _choice(answers[0])
    spec = service.fields[0]
    example = spec.rules.get("example")
    typed = {
        "person_name": "Lakshmi Devi",
        "text": example if isinstance(example, str) else "Details of the request",
        "aadhaar": "23456789012" + verhoeff_digit("23456789012"),
        "mobile": "9876543210",
        "pin_code": "520001",
        "email": "lakshmi@example.com",
        "date_of_birth": "15-08-1987",
        "number": str(spec.rules.get("min", 1)),
        "amount_inr": str(spec.rules.get("min", 45000)),
    }.get(spec.type)
    return _text(typed) if typed is not None else None


def _form_turns(catalogue: Catalogue, context: Context, services: int = 25) -> list[tuple[ConversationState, Inbound]]:
    """States asking a form's first question, each with a valid answer; empty when no form can start."""
    start = ConversationState(language="en", screen="departments", last_active=NOW)
    turns: list[tuple[ConversationState, Inbound]] = []
    for service in [s for s in catalogue.services if s.fields][:services]:
        result = step(start, _choice(f"svc:{service.id}"), context, NOW)
        for _ in range(3):  # the apply button, then perhaps a start button
            starts = [i for i in _ids(result.replies) if i.startswith(("apply:", "form:start"))]
            if not starts:
                break
            result = step(result.state, _choice(starts[0]), context, NOW)
        if result.state.screen in ("service", "services", "departments"):
            continue  # no form started
        answer = _answer(service, _ids(result.replies))
        if answer is None:
            continue
        after = step(result.state, answer, context, NOW).state
        if _without_clock(after) != _without_clock(result.state):  # the answer was taken
            turns.append((result.state, answer))
    return turns


def _without_clock(state: ConversationState) -> dict[str, Any]:
    return {k: v for k, v in state.to_dict().items() if k != "last_active"}


def measure_turns(catalogue: Catalogue, context: Context, count: int = 1000) -> list[Timing]:
    """Median and p99 of menu turns and, when the engine has forms, of a form turn."""
    biggest = max(catalogue.departments, key=lambda d: len(catalogue.services_of(d.id)))
    on_departments = ConversationState(language="en", screen="departments", last_active=NOW)
    on_services = ConversationState(language="en", screen="services", department_id=biggest.id, page=0, last_active=NOW)
    opened = step(on_departments, _choice(f"dept:{biggest.id}"), context, NOW)
    paging: list[tuple[ConversationState, Inbound]] = []
    result = opened
    for n in range(1000):  # walk forward through every page of the biggest department
        following = f"page:{result.state.page + 1}"
        if following not in _ids(result.replies):
            break
        paging.append((result.state, _choice(following, n)))
        result = step(result.state, paging[-1][1], context, NOW)
    timings = [
        _time_turns("department list", [(on_services, _choice("nav:menu"))], context, count),
        _time_turns(
            "service list, first page",
            [(on_departments, _choice(f"dept:{biggest.id}"))],
            context,
            count,
            f"{biggest.id}: {len(catalogue.services_of(biggest.id))} services",
        ),
    ]
    if paging:
        timings.append(
            _time_turns("service list, next page", paging, context, count, f"{len(paging) + 1} pages, cycled")
        )
    else:
        timings.append(Timing("service list, next page", (), "one page only: nothing to turn"))
    if form := _form_turns(catalogue, context):
        timings.append(
            _time_turns("form: answer one field", form, context, count, f"{len(form)} services' first field")
        )
    else:
        timings.append(Timing("form: answer one field", (), "not measured: step() cannot start a form yet"))
    return timings


# ---------------------------------------------------------------------------- reporting


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {os.cpu_count()} CPUs ({usable} usable), "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.platform()}"
    )


def _format(value: float) -> str:
    return f"{value * 1000:.0f} µs" if value < 1 else f"{value:.2f} ms"


def render(
    services: int,
    files: int,
    size: int,
    load: Timing,
    parse: tuple[Timing, Timing],
    turns: Sequence[Timing],
    count: int,
    snapshot: Timing | None = None,
) -> str:
    target_ms = LOAD_TARGET_MS * services / 5000  # the target scales with the catalogue
    started = snapshot or load
    verdict = "OK" if started.best_ms < target_ms else "SLOW"
    lines = [
        f"sevamitra bench catalogue: {services} synthetic services ({files} YAML files, {size / 1e6:.1f} MB)",
        "",
        f"cold load, every file parsed and validated (lint, first start after a change), best of "
        f"{len(load.samples_ms)}: {load.best_ms:.0f} ms (runs: {', '.join(f'{s:.0f}' for s in load.samples_ms)} ms)",
    ]
    if snapshot is not None:
        lines.append(
            f"start-up load from the validated snapshot, best of {len(snapshot.samples_ms)}: {snapshot.best_ms:.0f} ms "
            f"(runs: {', '.join(f'{s:.0f}' for s in snapshot.samples_ms)} ms); ratio cold/snapshot "
            f"{load.best_ms / snapshot.best_ms:.1f}x"
        )
    lines += [
        f"start-up target < {target_ms:.0f} ms (1 s for 5,000): {verdict}",
        f"  of which parsing the YAML (libyaml, best of 3): {parse[0].best_ms:.0f} ms; "
        f"the same data as JSON would parse in {parse[1].best_ms:.0f} ms",
        "",
        f"engine turns (core.conversation.step, {count} timed turns each, after a warm-up):",
        f"{'turn':<28}{'median':>10}{'p99':>10}{'max':>10}  note",
    ]
    for timing in turns:
        if not timing.samples_ms:
            lines.append(f"{timing.name:<28}{'-':>10}{'-':>10}{'-':>10}  {timing.note}")
            continue
        slow = " SLOW" if timing.p99_ms >= TURN_TARGET_MS else ""
        lines.append(
            f"{timing.name:<28}{_format(timing.median_ms):>10}{_format(timing.p99_ms):>10}"
            f"{_format(max(timing.samples_ms)):>10}  {timing.note}{slow}"
        )
    lines += ["", f"(target: p99 < {TURN_TARGET_MS:.0f} ms a turn)", f"machine: {machine()}"]
    return "\n".join(lines)


def catalogue(services: int = 5000, *, turns: int = 1000, echo: Callable[[str], None] = print) -> None:
    """Build a synthetic catalogue of `services` services, then measure and print load and turn times."""
    workdir = Path(tempfile.mkdtemp(prefix="sevamitra-bench-catalogue-"))
    try:
        files = synthesize(workdir, services)
        size = sum(p.stat().st_size for p in workdir.rglob("*.yaml"))
        load, loaded = measure_load(workdir)
        snapshot, _ = measure_load(workdir, cache_dir=workdir / "cache")
        parse = measure_parse(workdir)
        context = Context(catalogue=loaded, texts=load_texts())
        timings = measure_turns(loaded, context, turns)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    echo(render(services, files, size, load, parse, timings, turns, snapshot))
