"""Filling a service's form in chat: one question at a time, a summary, then submission.

The draft lives in the conversation state as plain JSON: `service`, `version`, `index` (the
question asked), `answers` (validated values), `shown` (what may be shown back: Aadhaar masked),
`skipped`, `editing` (back to the summary after one answer) and `place` (a district → mandal →
village pick in progress). Nothing the citizen typed correctly is lost on a wrong answer, "back",
an expired session or a trip to the menu.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sevamitra.core.catalogue import Service
from sevamitra.core.fields import FieldSpec
from sevamitra.core.jurisdictions import Jurisdictions, Place
from sevamitra.core.messages import Button, ButtonsOut, ListOut, ListRow, ListSection, Outbound, TextOut
from sevamitra.core.validation import (
    LocationAnswer,
    MediaAnswer,
    PlaceAnswer,
    Valid,
)

Answer = str | MediaAnswer | LocationAnswer | PlaceAnswer
PICKER_TYPES = frozenset({"address_ap", "district"})
BUTTON_TITLE_LIMIT = 20
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72


def new_draft(service: Service) -> dict[str, Any]:
    return {
        "service": service.id,
        "version": service.version,
        "hash": service.definition_hash,
        "index": 0,
        "answers": {},
        "shown": {},
        "skipped": [],
        "editing": False,
        "place": {},
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Ui:
    """What the form needs from the engine: texts in the citizen's language, clipping and paging."""

    t: Callable[..., str]
    language: str
    clip: Callable[[str, int], str]
    page_rows: Callable[[list[ListRow], int], tuple[tuple[ListRow, ...], int]]


def field_label(spec: FieldSpec, ui: Ui) -> str:
    return spec.labels.get(ui.language) or spec.labels.get("en") or ui.t(f"ask.{spec.type}")


def short_label(spec: FieldSpec, ui: Ui) -> str:
    """The field's name in a summary: its own label, else the short name of its type."""
    return spec.labels.get(ui.language) or spec.labels.get("en") or ui.t(f"label.{spec.type}")


def question(service: Service, draft: dict[str, Any], ui: Ui, places: Jurisdictions | None) -> list[Outbound]:
    """The message(s) asking the draft's current question."""
    spec = service.fields[draft["index"]]
    progress = ui.t("form_progress", n=draft["index"] + 1, total=len(service.fields))
    label = field_label(spec, ui)
    hint = spec.hints.get(ui.language) or spec.hints.get("en")
    lines = [progress, label] + ([hint] if hint else [])
    if photo_limit(spec) > 1:
        lines.append(ui.t("photos_up_to", max=photo_limit(spec)))
    if spec.type == "text" and spec.rules.get("voice"):
        lines.append(ui.t("voice_welcome"))
    if not spec.required:
        lines.append(ui.t("form_optional"))
    body = "\n".join(lines)
    if spec.type in PICKER_TYPES and places is not None:
        return [_place_question(spec, draft, ui, places, body)]
    if spec.type == "yes_no":
        buttons = (
            Button(id="answer:yes", title=ui.clip(ui.t("answer.yes"), BUTTON_TITLE_LIMIT)),
            Button(id="answer:no", title=ui.clip(ui.t("answer.no"), BUTTON_TITLE_LIMIT)),
        )
        return [ButtonsOut(body=body, buttons=buttons)]
    if spec.type == "choice_one" and len(spec.options) <= 10:
        rows = tuple(
            ListRow(id=f"answer:{o.id}", title=ui.clip(o.labels.get(ui.language) or o.labels["en"], ROW_TITLE_LIMIT))
            for o in spec.options
        )
        return [
            ListOut(
                body=body, button=ui.clip(ui.t("choose_button"), BUTTON_TITLE_LIMIT), sections=(ListSection(rows=rows),)
            )
        ]
    if spec.type in ("choice_one", "choice_many"):
        numbered = [f"{i}. {o.labels.get(ui.language) or o.labels['en']}" for i, o in enumerate(spec.options, 1)]
        how = ui.t("choose_many_how") if spec.type == "choice_many" else ui.t("choose_one_how")
        return [TextOut(body="\n".join([body, *numbered, how]))]
    return [TextOut(body=body)]


def _place_question(spec: FieldSpec, draft: dict[str, Any], ui: Ui, places: Jurisdictions, body: str) -> Outbound:
    picked = draft.get("place") or {}
    page = int(picked.get("page", 0))
    if "district" not in picked:
        options, prompt = places.districts(), ui.t("pick_district")
    elif "mandal" not in picked:
        options, prompt = children(places, picked["district"]), ui.t("pick_mandal")
    else:
        options, prompt = children(places, picked["mandal"]), ui.t("pick_village")
    if not options:  # a district whose mandals are not loaded yet: the citizen types the name
        return TextOut(body=f"{body}\n{ui.t('type_place_name')}")
    rows, _ = ui.page_rows([_place_row(p, ui) for p in options], page)
    return ListOut(
        body=f"{body}\n{prompt}",
        button=ui.clip(ui.t("choose_button"), BUTTON_TITLE_LIMIT),
        sections=(ListSection(rows=rows),),
        footer=ui.clip(ui.t("type_place_hint"), 60),
    )


def children(places: Jurisdictions, parent: str) -> tuple[Place, ...]:
    """The places under `parent`; none under a name the citizen typed (not in the registry)."""
    return places.children(parent) if parent in places else ()


def _place_row(place: Place, ui: Ui) -> ListRow:
    return ListRow(id=f"place:{place.id}", title=ui.clip(place.name(ui.language), ROW_TITLE_LIMIT))


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceStep:
    """The outcome of one pick: the finished answer, or the draft's picker moved on, or a problem."""

    answer: PlaceAnswer | str | None = None
    place: dict[str, Any] | None = None
    problem: str | None = None  # a text key


def pick_place(
    spec: FieldSpec, draft: dict[str, Any], choice: str | None, typed: str | None, places: Jurisdictions
) -> PlaceStep:
    """Advance the district → mandal → village picker by a tapped row, a page turn or a typed name."""
    picked = dict(draft.get("place") or {})
    if choice and choice.startswith("page:"):
        picked["page"] = int(choice.removeprefix("page:"))
        return PlaceStep(place=picked)
    level_parent = None if "district" not in picked else picked.get("mandal") or picked["district"]
    chosen: Place | None = None
    if choice and choice.startswith("place:"):
        chosen = places.get(choice.removeprefix("place:"))
    elif typed:
        below = places.districts() if level_parent is None else children(places, level_parent)
        if not below and level_parent is not None:  # not loaded: keep the typed name under the parent
            return _typed_place(spec, picked, typed)
        within = level_parent if level_parent in places else None
        found = [p for p in places.find(typed, within=within, limit=5) if p in below]
        chosen = found[0] if len(found) == 1 or (found and _exact(found[0], typed)) else None
        if chosen is None:
            return PlaceStep(problem="place_not_found" if not found else "place_ambiguous")
    if (
        chosen is None
        or (level_parent is not None and chosen.parent != level_parent)
        or (level_parent is None and chosen.parent is not None)
    ):
        return PlaceStep(problem="place_not_found")
    if level_parent is None:
        if spec.type == "district":
            return PlaceStep(answer=chosen.id)
        return PlaceStep(place={"district": chosen.id})
    if "mandal" not in picked:
        return PlaceStep(place={"district": picked["district"], "mandal": chosen.id})
    return PlaceStep(answer=PlaceAnswer(district=picked["district"], mandal=picked["mandal"], village=chosen.id))


def _exact(place: Place, typed: str) -> bool:
    wanted = typed.strip().casefold()
    return any(name.casefold() == wanted for name in place.names.values())


def _typed_place(spec: FieldSpec, picked: dict[str, Any], typed: str) -> PlaceStep:
    name = " ".join(typed.split())[:60]
    if "mandal" not in picked:
        return PlaceStep(place={"district": picked["district"], "mandal": f"{picked['district']}/~{name}"})
    return PlaceStep(
        answer=PlaceAnswer(district=picked["district"], mandal=picked["mandal"], village=f"{picked['mandal']}/~{name}")
    )


def photo_limit(spec: FieldSpec) -> int:
    """How many photos a field takes (1 for every other field)."""
    return int(spec.rules.get("max_count", 1)) if spec.type == "photo" else 1


def store(draft: dict[str, Any], spec: FieldSpec, valid: Valid) -> dict[str, Any]:
    value = list(valid.value) if isinstance(valid.value, tuple) else valid.value
    return {
        **draft,
        "answers": {**draft["answers"], spec.id: value},
        "shown": {**draft["shown"], spec.id: valid.display},
        "skipped": [s for s in draft["skipped"] if s != spec.id],
        "place": {},
    }


def skip(draft: dict[str, Any], spec: FieldSpec) -> dict[str, Any]:
    answers = {k: v for k, v in draft["answers"].items() if k != spec.id}
    shown = {k: v for k, v in draft["shown"].items() if k != spec.id}
    return {**draft, "answers": answers, "shown": shown, "skipped": [*draft["skipped"], spec.id], "place": {}}


def summary(service: Service, draft: dict[str, Any], ui: Ui, fee_text: str) -> list[Outbound]:
    lines = [ui.t("summary_title", service=service.name(ui.language))]
    for n, spec in enumerate(service.fields, 1):
        shown = draft["shown"].get(spec.id) or ui.t("summary_skipped")
        lines.append(f"{n}. {short_label(spec, ui)}: {shown}")
    lines += ["", ui.t("summary_fee", fee=fee_text), ui.t("summary_edit_how")]
    buttons = (
        Button(id="form:submit", title=ui.clip(ui.t("button_submit"), BUTTON_TITLE_LIMIT)),
        Button(id="form:edit", title=ui.clip(ui.t("button_edit"), BUTTON_TITLE_LIMIT)),
        Button(id="form:cancel", title=ui.clip(ui.t("button_cancel"), BUTTON_TITLE_LIMIT)),
    )
    return [ButtonsOut(body=ui.clip("\n".join(lines), 1024), buttons=buttons)]


def edit_menu(service: Service, ui: Ui) -> Outbound:
    fields: Sequence[FieldSpec] = service.fields
    if len(fields) <= 10:
        rows = tuple(ListRow(id=f"edit:{f.id}", title=ui.clip(short_label(f, ui), ROW_TITLE_LIMIT)) for f in fields)
        return ListOut(
            body=ui.t("edit_which"),
            button=ui.clip(ui.t("choose_button"), BUTTON_TITLE_LIMIT),
            sections=(ListSection(rows=rows),),
        )
    numbered = [f"{n}. {short_label(f, ui)}" for n, f in enumerate(fields, 1)]
    return TextOut(body="\n".join([ui.t("edit_which"), *numbered, ui.t("summary_edit_how")]))


def field_to_edit(service: Service, text: str, ui: Ui) -> int | None:
    """`edit 3` or `edit aadhaar` (or the field's label) → the index of that field."""
    wanted = text.strip().casefold()
    if wanted.isdigit():
        n = int(wanted)
        return n - 1 if 1 <= n <= len(service.fields) else None
    for i, spec in enumerate(service.fields):
        names = (spec.id, spec.id.replace("_", " "), field_label(spec, ui), short_label(spec, ui))
        if wanted in (name.casefold() for name in names):
            return i
    return None
