"""A service's form as a WhatsApp Flow (Flow JSON), and a structural check of any Flow JSON.

`flow_json(service, language)` renders the same form the chat asks one question at a time as a
navigate-only Flow (no data endpoint, so no `data_api_version` and no `routing_model`: Meta
derives the routes from the `navigate` actions). `flow_problems(flow)` checks a Flow against
the rules below; an empty list means it passes.

Followed: Flow JSON version 7.3 (Meta's Flow JSON reference, updated March 2026, and the
components and media-upload references; versions 5.1, 6.0-6.3 and 7.0-7.3 are publishable).

Choices made here:
- Screens hold at most `INPUTS_PER_SCREEN` inputs, in the form's order, and at most one media
  picker (Meta: one PhotoPicker or one DocumentPicker per screen, never both). Screen ids are
  `STEP_A`, `STEP_B`, ... (letters and underscores only); the last screen is the one terminal
  screen and its Footer `complete`s with every field.
- Values are carried by Flow JSON 4.0's global references, not by navigate payloads: the
  complete payload names a field of an earlier screen as `${screen.STEP_A.form.<id>}` and one of
  the terminal screen as `${form.<id>}`. Navigate payloads stay `{}`, so no screen needs a `data`
  model with `__example__` values whose types must match each component's value; media pickers
  must be referenced this way anyway (they are not allowed in navigate payloads).
- Pickers allow exactly one file (`max-uploaded-*: 1`, required with `min-uploaded-*: 1`):
  Meta refuses a picker of more than one file in a complete payload. `max-file-size-kb` is the
  field's `max_mb` capped at Meta's 25,600 KiB; `allowed-mime-types` keeps the accepted types
  Meta supports.
- Types: person_name, text, the id numbers (vehicle, ration card, EPIC, PAN, electricity,
  property) → TextInput `text` (a text with max_length over 80 → TextArea); aadhaar and pin_code
  → TextInput `number` with their digit count as helper; mobile → `phone`; email → `email`;
  number, amount_inr → `number`. Range and pattern checks stay on the server, which validates
  every answer again. date, date_of_birth → DatePicker, with min/max dates only when `today` is
  given (a published Flow is static: relative bounds would go stale). choice_one → radio
  buttons up to `RADIO_MAX_OPTIONS` options, else a Dropdown; choice_many → CheckboxGroup;
  yes_no → radio buttons yes/no; document → DocumentPicker; photo → PhotoPicker.
- address_ap, district and location (map and place pickers need an endpoint), and choices with
  more options than a component takes, become an optional TextInput whose helper says the chat
  will ask for it after the Flow is submitted.
- Labels are the citizen's language, clipped to each component's limit at a syllable boundary;
  a clipped label is given whole in the helper text. Aadhaar is marked `sensitive`, so the
  summary WhatsApp shows after submission masks it.
- The few texts of the Flow itself (buttons, default labels, helpers) come from the locale files'
  `flow.*` keys (`catalogue/locales/<lang>/flows.yaml`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sevamitra.core.catalogue import Service
from sevamitra.core.clipping import clip
from sevamitra.core.fields import MAX_AGE, FieldSpec, date_window
from sevamitra.core.texts import Texts

FLOW_JSON_VERSION: Final = "7.3"
INPUTS_PER_SCREEN: Final = 5
RADIO_MAX_OPTIONS: Final = 5  # more options read better as a dropdown

# Meta's limits (components and media-upload references).
MAX_COMPONENTS_PER_SCREEN: Final = 50
SCREEN_ID: Final = re.compile(r"^[A-Z_]+$")
RESERVED_SCREEN_IDS: Final = frozenset({"SUCCESS"})
RESERVED_PAYLOAD_KEYS: Final = frozenset({"flow_token"})  # WhatsApp adds it to the response
LABEL_LIMITS: Final[Mapping[str, int]] = {
    "TextInput": 20,
    "TextArea": 20,
    "Dropdown": 20,
    "RadioButtonsGroup": 30,
    "CheckboxGroup": 30,
    "DatePicker": 40,
    "OptIn": 120,
    "PhotoPicker": 80,
    "DocumentPicker": 80,
    "Footer": 35,
}
TEXT_LIMITS: Final[Mapping[str, int]] = {"TextHeading": 80, "TextSubheading": 80, "TextBody": 4096, "TextCaption": 409}
HELPER_TEXT_LIMIT: Final = 80  # TextInput, TextArea, DatePicker
DESCRIPTION_LIMIT: Final = 300  # pickers, list items, choice groups
OPTION_TITLE_LIMIT: Final = 30
OPTION_LIMITS: Final[Mapping[str, int]] = {"RadioButtonsGroup": 20, "CheckboxGroup": 20, "Dropdown": 200}
MAX_OPT_INS_PER_SCREEN: Final = 5
MAX_FILE_SIZE_KB: Final = 25_600
INPUT_TYPES: Final = frozenset({"text", "number", "email", "password", "passcode", "phone"})
SUPPORTED_MIME_TYPES: Final = frozenset(
    {
        "application/gzip",
        "application/msword",
        "application/pdf",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/x-7z-compressed",
        "application/zip",
        "image/avif",
        "image/gif",
        "image/heic",
        "image/heif",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/webp",
        "text/plain",
        "video/mp4",
        "video/mpeg",
    }
)
TEXT_COMPONENTS: Final = frozenset(TEXT_LIMITS)
INPUT_COMPONENTS: Final = frozenset(
    {
        "TextInput",
        "TextArea",
        "DatePicker",
        "Dropdown",
        "RadioButtonsGroup",
        "CheckboxGroup",
        "OptIn",
        "PhotoPicker",
        "DocumentPicker",
    }
)
MEDIA_COMPONENTS: Final = frozenset({"PhotoPicker", "DocumentPicker"})
KNOWN_COMPONENTS: Final = TEXT_COMPONENTS | INPUT_COMPONENTS | {"Footer", "Form"}
MIN_VERSION_GLOBAL_REFS: Final = (4, 0)  # ${screen.<id>.form.<name>}, inputs outside a Form, pickers
MIN_VERSION_SENSITIVE: Final = (5, 1)


_TEXT_INPUT_TYPES: Final[Mapping[str, str]] = {
    "person_name": "text",
    "text": "text",
    "aadhaar": "number",
    "pin_code": "number",
    "mobile": "phone",
    "email": "email",
    "number": "number",
    "amount_inr": "number",
    "electricity_service_number": "text",
    "property_assessment_number": "text",
    "vehicle_number": "text",
    "ration_card_number": "text",
    "epic_number": "text",
    "pan": "text",
}
_DIGITS: Final[Mapping[str, int]] = {"aadhaar": 12, "pin_code": 6}
_IN_CHAT_TYPES: Final = frozenset({"address_ap", "district", "location"})
_SENSITIVE_TYPES: Final = frozenset({"aadhaar"})
_TEXT_INPUT_MAX_CHARS: Final = 80  # TextInput's default max-chars; longer texts get a TextArea
_REFERENCE = re.compile(r"\$\{([^}]*)\}")


# ---------------------------------------------------------------------------- rendering


def flow_json(service: Service, language: str, texts: Texts, *, today: date | None = None) -> dict[str, Any]:
    """The service's form as a navigate-only Flow in `language`, ready for the Flows API."""
    say = _Say(language, texts)
    pages = _pages(service.fields)
    ids = [_screen_id(i) for i in range(len(pages))]
    name = service.name(language)
    screens: list[dict[str, Any]] = []
    for i, page in enumerate(pages):
        last = i == len(pages) - 1
        children: list[dict[str, Any]] = []
        if i == 0 and (summary := service.description(language).strip()):
            children.append({"type": "TextBody", "text": clip(summary, TEXT_LIMITS["TextBody"])})
        if not service.fields:
            children.append({"type": "TextBody", "text": say("flow.no_fields")})
        children += [_component(spec, say, today) for spec in page]
        if last:
            payload = {
                spec.id: f"${{form.{spec.id}}}" if j == i else f"${{screen.{ids[j]}.form.{spec.id}}}"
                for j, fields in enumerate(pages)
                for spec in fields
            }
            action: dict[str, Any] = {"name": "complete", "payload": payload}
        else:
            action = {"name": "navigate", "next": {"type": "screen", "name": ids[i + 1]}, "payload": {}}
        button = say("flow.submit" if last else "flow.continue")
        children.append({"type": "Footer", "label": clip(button, LABEL_LIMITS["Footer"]), "on-click-action": action})
        title = name if len(pages) == 1 else f"{name} ({i + 1}/{len(pages)})"
        screen: dict[str, Any] = {"id": ids[i], "title": title}
        if last:
            screen |= {"terminal": True, "success": True}
        if sensitive := [spec.id for spec in page if spec.type in _SENSITIVE_TYPES]:
            screen["sensitive"] = sensitive
        screen["layout"] = {"type": "SingleColumnLayout", "children": children}
        screens.append(screen)
    return {"version": FLOW_JSON_VERSION, "screens": screens}


@dataclass(frozen=True, slots=True)
class _Say:
    language: str
    texts: Texts

    def __call__(self, key: str) -> str:
        return self.texts.get(self.language, key)


def _pages(fields: tuple[FieldSpec, ...]) -> list[list[FieldSpec]]:
    """The form split into screens: at most INPUTS_PER_SCREEN inputs and one media picker each."""
    pages: list[list[FieldSpec]] = [[]]
    for spec in fields:
        page = pages[-1]
        full = len(page) >= INPUTS_PER_SCREEN
        second_picker = _is_picker(spec) and any(_is_picker(s) for s in page)
        if full or second_picker:
            pages.append([])
        pages[-1].append(spec)
    return pages


def _is_picker(spec: FieldSpec) -> bool:
    return spec.type == "photo" or (spec.type == "document" and bool(_mime_types(spec)))


def _screen_id(index: int) -> str:
    """STEP_A ... STEP_Z, STEP_AA, ...: screen ids may hold letters and underscores only."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"STEP_{letters}"


def _component(spec: FieldSpec, say: _Say, today: date | None) -> dict[str, Any]:
    if spec.type in _IN_CHAT_TYPES:
        return _in_chat(spec, say)
    options = len(spec.options)
    if spec.type == "choice_one" and options <= OPTION_LIMITS["Dropdown"]:
        kind = "RadioButtonsGroup" if options <= RADIO_MAX_OPTIONS else "Dropdown"
        return _choices(kind, spec, say, [(o.id, o.label(say.language)) for o in spec.options])
    if spec.type == "choice_many" and options <= OPTION_LIMITS["CheckboxGroup"]:
        group = _choices("CheckboxGroup", spec, say, [(o.id, o.label(say.language)) for o in spec.options])
        for rule, prop in (("min_choices", "min-selected-items"), ("max_choices", "max-selected-items")):
            if (count := spec.rules.get(rule)) is not None:
                group[prop] = count
        return group
    if spec.type == "yes_no":
        return _choices("RadioButtonsGroup", spec, say, [("yes", say("flow.yes")), ("no", say("flow.no"))])
    if spec.type in ("date", "date_of_birth"):
        return _date_picker(spec, say, today)
    if spec.type == "photo":
        return _picker("PhotoPicker", spec, say) | {"photo-source": "camera_gallery"}
    if spec.type == "document" and (mime_types := _mime_types(spec)):
        return _picker("DocumentPicker", spec, say) | {"allowed-mime-types": mime_types}
    if spec.type in _TEXT_INPUT_TYPES:
        return _text_input(spec, say)
    return _in_chat(spec, say)  # choices too long for any component, documents of types Meta cannot pick


def _label(spec: FieldSpec, say: _Say, kind: str) -> tuple[str, str]:
    """The component's label, clipped to its limit, and the whole label when it had to be clipped."""
    full = spec.label(say.language) or say(f"flow.label.{spec.type}")
    label = clip(full, LABEL_LIMITS[kind])
    return label, full if label != full else ""


def _helper(*parts: str, limit: int = HELPER_TEXT_LIMIT) -> dict[str, str]:
    text = " · ".join(p.strip() for p in parts if p.strip())
    return {"helper-text": clip(text, limit)} if text else {}


def _text_input(spec: FieldSpec, say: _Say) -> dict[str, Any]:
    max_length = spec.rules.get("max_length")
    kind = "TextArea" if spec.type == "text" and (max_length or 1000) > _TEXT_INPUT_MAX_CHARS else "TextInput"
    label, whole = _label(spec, say, kind)
    component: dict[str, Any] = {"type": kind, "name": spec.id, "label": label, "required": spec.required}
    default_help = say(f"flow.helper.{spec.type}") if spec.type in ("aadhaar", "pin_code", "mobile") else ""
    component |= _helper(whole, spec.hint(say.language) or default_help)
    if kind == "TextArea":
        if max_length:
            component["max-length"] = max_length
        return component
    component["input-type"] = _TEXT_INPUT_TYPES[spec.type]
    if (digits := _DIGITS.get(spec.type)) is not None:
        component |= {"min-chars": digits, "max-chars": digits}
    elif spec.type == "text":
        if (min_length := spec.rules.get("min_length")) is not None:
            component["min-chars"] = min_length
        if max_length is not None:
            component["max-chars"] = max_length
    return component


def _in_chat(spec: FieldSpec, say: _Say) -> dict[str, Any]:
    label, whole = _label(spec, say, "TextInput")
    component = {"type": "TextInput", "name": spec.id, "label": label, "required": False, "input-type": "text"}
    return component | _helper(say("flow.helper.in_chat"), whole)


def _choices(kind: str, spec: FieldSpec, say: _Say, items: list[tuple[str, str]]) -> dict[str, Any]:
    label, whole = _label(spec, say, kind)
    component: dict[str, Any] = {
        "type": kind,
        "name": spec.id,
        "label": label,
        "required": spec.required,
        "data-source": [{"id": key, "title": clip(title, OPTION_TITLE_LIMIT)} for key, title in items],
    }
    description = " · ".join(p for p in (whole, spec.hint(say.language)) if p)
    if description and kind != "Dropdown":  # a Dropdown has no description
        component["description"] = clip(description, DESCRIPTION_LIMIT)
    return component


def _date_picker(spec: FieldSpec, say: _Say, today: date | None) -> dict[str, Any]:
    label, whole = _label(spec, say, "DatePicker")
    component: dict[str, Any] = {"type": "DatePicker", "name": spec.id, "label": label, "required": spec.required}
    component |= _helper(whole, spec.hint(say.language))
    if today is not None:
        earliest, latest = _date_bounds(spec, today)
        if earliest is not None:
            component["min-date"] = earliest.isoformat()
        if latest is not None:
            component["max-date"] = latest.isoformat()
    return component


def _date_bounds(spec: FieldSpec, today: date) -> tuple[date | None, date | None]:
    if spec.type == "date_of_birth":
        oldest = spec.rules.get("max_age", MAX_AGE)
        youngest = spec.rules.get("min_age", 0)
        return _years_before(today, oldest + 1) + timedelta(days=1), _years_before(today, youngest)
    lower, upper = date_window(spec.rules)
    return (
        None if lower is None else today + timedelta(days=lower),
        None if upper is None else today + timedelta(days=upper),
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _picker(kind: str, spec: FieldSpec, say: _Say) -> dict[str, Any]:
    label, whole = _label(spec, say, kind)
    noun = "photos" if kind == "PhotoPicker" else "documents"
    component: dict[str, Any] = {
        "type": kind,
        "name": spec.id,
        "label": label,
        f"min-uploaded-{noun}": 1 if spec.required else 0,
        f"max-uploaded-{noun}": 1,
    }
    if (size_mb := spec.size_limit_mb()) is not None:
        component["max-file-size-kb"] = max(1, min(MAX_FILE_SIZE_KB, int(size_mb * 1024)))
    description = " · ".join(p for p in (whole, spec.hint(say.language)) if p)
    if description:
        component["description"] = clip(description, DESCRIPTION_LIMIT)
    return component


def _mime_types(spec: FieldSpec) -> list[str]:
    return [m for m in spec.accepted_types() if m in SUPPORTED_MIME_TYPES]


# ---------------------------------------------------------------------------- checking


def flow_problems(flow: dict[str, Any]) -> list[str]:
    """Everything wrong with a Flow JSON document, as `where: what`; empty when it passes."""
    problems: list[str] = []
    version = _version(flow.get("version"))
    if version is None:
        problems.append(f"version: a Flow JSON version like {FLOW_JSON_VERSION!r} is required")
    screens = flow.get("screens")
    if not isinstance(screens, list) or not screens or not all(isinstance(s, dict) for s in screens):
        return [*problems, "screens: a non-empty list of screens is required"]
    ids = [s.get("id") for s in screens]
    for screen_id in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"screen {screen_id}: the id is used by more than one screen")
    inputs = {s.get("id"): _inputs(s) for s in screens}
    for screen in screens:
        problems += _screen_problems(screen, inputs, screens)
    problems += _routing_problems(flow, screens)
    problems += _unsent_inputs(screens, inputs)
    problems += _version_problems(version, screens)
    return problems


def _version(value: object) -> tuple[int, int] | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d+\.\d+", value):
        return None
    major, minor = value.split(".")
    return int(major), int(minor)


def _components(children: object) -> Iterator[dict[str, Any]]:
    """The components of a layout, Forms opened up."""
    for child in children if isinstance(children, list) else []:
        if isinstance(child, dict):
            yield child
            if child.get("type") == "Form":
                yield from _components(child.get("children"))


def _children(screen: dict[str, Any]) -> list[dict[str, Any]]:
    layout = screen.get("layout")
    return list(_components(layout.get("children") if isinstance(layout, dict) else None))


def _inputs(screen: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c["name"]: c for c in _children(screen) if c.get("type") in INPUT_COMPONENTS and isinstance(c.get("name"), str)
    }


def _data_model(screen: dict[str, Any]) -> dict[str, Any]:
    data = screen.get("data")
    return data if isinstance(data, dict) else {}


def _footers(screen: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in _children(screen) if c.get("type") == "Footer"]


def _action(component: dict[str, Any]) -> dict[str, Any]:
    action = component.get("on-click-action")
    return action if isinstance(action, dict) else {}


def _screen_problems(
    screen: dict[str, Any], inputs: Mapping[Any, dict[str, dict[str, Any]]], screens: list[dict[str, Any]]
) -> Iterator[str]:
    screen_id = screen.get("id")
    where = f"screen {screen_id}"
    if not isinstance(screen_id, str) or not SCREEN_ID.fullmatch(screen_id) or screen_id in RESERVED_SCREEN_IDS:
        yield f"{where}: the id must match {SCREEN_ID.pattern} and not be SUCCESS"
    layout = screen.get("layout")
    if not isinstance(layout, dict) or layout.get("type") != "SingleColumnLayout":
        yield f"{where}: the layout must be a SingleColumnLayout"
    children = _children(screen)
    if len(children) > MAX_COMPONENTS_PER_SCREEN:
        yield f"{where}: {len(children)} components, more than {MAX_COMPONENTS_PER_SCREEN}"
    names = [c.get("name") for c in children if c.get("type") in INPUT_COMPONENTS]
    for name in sorted({str(n) for n in names if names.count(n) > 1}):
        yield f"{where}: the component name {name} is used more than once"
    if any(not isinstance(n, str) or not n for n in names):
        yield f"{where}: every input needs a name"
    counts = {kind: sum(c.get("type") == kind for c in children) for kind in KNOWN_COMPONENTS}
    if sum(counts[k] for k in INPUT_COMPONENTS) > INPUTS_PER_SCREEN:
        yield f"{where}: more than {INPUTS_PER_SCREEN} inputs on one screen"
    if counts["PhotoPicker"] + counts["DocumentPicker"] > 1:
        yield f"{where}: at most one PhotoPicker or one DocumentPicker per screen"
    if counts["OptIn"] > MAX_OPT_INS_PER_SCREEN:
        yield f"{where}: more than {MAX_OPT_INS_PER_SCREEN} OptIn components"
    if counts["Footer"] > 1:
        yield f"{where}: more than one Footer"
    for component in children:
        yield from _component_problems(where, component)
    terminal = screen.get("terminal") is True
    footers = _footers(screen)
    actions = [_action(f).get("name") for f in footers]
    if terminal and "complete" not in actions:
        yield f"{where}: a terminal screen needs a Footer whose on-click-action is complete"
    if not terminal and "complete" in actions:
        yield f"{where}: complete is only allowed on a terminal screen"
    if terminal and "navigate" in actions:
        yield f"{where}: a terminal screen's Footer must complete, not navigate"
    if not terminal and not footers:
        yield f"{where}: a screen that is not terminal needs a Footer to go on"
    declared = _data_model(screen)
    for key, spec in declared.items():
        if not isinstance(spec, dict) or "type" not in spec or "__example__" not in spec:
            yield f"{where}: data {key} needs a type and an __example__"
    sensitive = screen.get("sensitive", [])
    for name in sensitive if isinstance(sensitive, list) else [sensitive]:
        if name not in inputs.get(screen_id, {}):
            yield f"{where}: sensitive names {name!r}, which is no input of this screen"
    yield from _reference_problems(where, screen, declared, inputs)
    for footer in footers:
        yield from _action_problems(where, footer, screen, inputs, screens)


def _component_problems(where: str, component: dict[str, Any]) -> Iterator[str]:
    kind = component.get("type")
    name = component.get("name") or kind
    here = f"{where}: {kind} {name}"
    if kind not in KNOWN_COMPONENTS:
        yield f"{where}: unknown component type {kind!r}"
        return
    for prop, value in component.items():
        if isinstance(value, str) and not value.strip():
            yield f"{here}: {prop} is empty"
    if kind in TEXT_LIMITS:
        yield from _length(here, "text", component.get("text"), TEXT_LIMITS[kind], required=True)
    if kind in LABEL_LIMITS:
        yield from _length(here, "label", component.get("label"), LABEL_LIMITS[kind], required=True)
    if kind in ("TextInput", "TextArea", "DatePicker"):
        yield from _length(here, "helper-text", component.get("helper-text"), HELPER_TEXT_LIMIT)
    if kind in ("RadioButtonsGroup", "CheckboxGroup", "PhotoPicker", "DocumentPicker"):
        yield from _length(here, "description", component.get("description"), DESCRIPTION_LIMIT)
    if kind == "TextInput" and component.get("input-type", "text") not in INPUT_TYPES:
        yield f"{here}: input-type must be one of {', '.join(sorted(INPUT_TYPES))}"
    if kind in OPTION_LIMITS:
        yield from _option_problems(here, component.get("data-source"), OPTION_LIMITS[kind])
    if kind == "DatePicker":
        yield from _date_problems(here, component)
    if kind in MEDIA_COMPONENTS:
        yield from _picker_problems(here, component)


def _length(here: str, prop: str, value: object, limit: int, *, required: bool = False) -> Iterator[str]:
    if value is None:
        if required:
            yield f"{here}: {prop} is required"
    elif not isinstance(value, str):
        yield f"{here}: {prop} must be text"
    elif len(value) > limit and not _REFERENCE.fullmatch(value):
        yield f"{here}: {prop} has {len(value)} characters, more than {limit}"


def _option_problems(here: str, items: object, limit: int) -> Iterator[str]:
    if isinstance(items, str) and _REFERENCE.fullmatch(items):
        return  # dynamic: checked when the data comes
    if not isinstance(items, list) or not items:
        yield f"{here}: data-source needs at least one option"
        return
    if len(items) > limit:
        yield f"{here}: {len(items)} options, more than {limit}"
    seen: set[str] = set()
    for item in items:
        key = item.get("id") if isinstance(item, dict) else None
        title = item.get("title") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key.strip():
            yield f"{here}: every option needs an id"
        elif key in seen:
            yield f"{here}: option id {key} is used twice"
        else:
            seen.add(key)
        yield from _length(f"{here} option {key}", "title", title, OPTION_TITLE_LIMIT, required=True)


def _date_problems(here: str, component: dict[str, Any]) -> Iterator[str]:
    bounds: list[date] = []
    for prop in ("min-date", "max-date"):
        value = component.get(prop)
        if value is None:
            continue
        try:
            bounds.append(date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else date.max)
        except ValueError:
            bounds.append(date.max)
        if bounds[-1] == date.max:
            yield f"{here}: {prop} must be a date as YYYY-MM-DD (got {value!r})"
    if len(bounds) == 2 and date.max not in bounds and bounds[0] > bounds[1]:
        yield f"{here}: min-date is after max-date"


def _picker_problems(here: str, component: dict[str, Any]) -> Iterator[str]:
    noun = "photos" if component.get("type") == "PhotoPicker" else "documents"
    least, most = component.get(f"min-uploaded-{noun}", 0), component.get(f"max-uploaded-{noun}", 30)
    if not (isinstance(least, int) and isinstance(most, int) and 0 <= least <= most and 1 <= most <= 30):
        yield f"{here}: min-uploaded-{noun} and max-uploaded-{noun} must satisfy 0 <= min <= max, 1 <= max <= 30"
    size = component.get("max-file-size-kb", MAX_FILE_SIZE_KB)
    if not isinstance(size, int) or not 1 <= size <= MAX_FILE_SIZE_KB:
        yield f"{here}: max-file-size-kb must be from 1 to {MAX_FILE_SIZE_KB}"
    mime_types = component.get("allowed-mime-types")
    if mime_types is not None:
        if not isinstance(mime_types, list) or not mime_types:
            yield f"{here}: allowed-mime-types must be a non-empty list"
        else:
            for mime in mime_types:
                if mime not in SUPPORTED_MIME_TYPES:
                    yield f"{here}: {mime!r} is not a MIME type a DocumentPicker supports"


def _reference_problems(
    where: str,
    screen: dict[str, Any],
    declared: Mapping[str, Any],
    inputs: Mapping[Any, dict[str, dict[str, Any]]],
) -> Iterator[str]:
    """Every `${...}` in the screen names an input, a declared data field, or another screen's."""
    own = inputs.get(screen.get("id"), {})
    for text in _strings(screen.get("layout")):
        for reference in _REFERENCE.findall(text):
            parts = reference.split(".")
            if len(parts) == 2 and parts[0] == "form":
                if parts[1] not in own:
                    yield f"{where}: ${{{reference}}} names no input of this screen"
            elif len(parts) == 2 and parts[0] == "data":
                if parts[1] not in declared:
                    yield f"{where}: ${{{reference}}} names no field of this screen's data"
            elif len(parts) == 4 and parts[0] == "screen" and parts[2] in ("form", "data"):
                if parts[1] not in inputs:
                    yield f"{where}: ${{{reference}}} names an unknown screen"
                elif parts[2] == "form" and parts[3] not in inputs[parts[1]]:
                    yield f"{where}: ${{{reference}}} names no input of screen {parts[1]}"
            else:
                yield f"{where}: ${{{reference}}} is not a form, data or screen reference"


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _media_reference(value: object, screen_id: object, inputs: Mapping[Any, dict[str, dict[str, Any]]]) -> str | None:
    """The picker a payload value names, if it names one."""
    for text in _strings(value):
        for reference in _REFERENCE.findall(text):
            parts = reference.split(".")
            owner, name = (screen_id, parts[1]) if parts[0] == "form" and len(parts) == 2 else (None, None)
            if parts[0] == "screen" and len(parts) == 4 and parts[2] == "form":
                owner, name = parts[1], parts[3]
            component = inputs.get(owner, {}).get(name or "")
            if component is not None and component.get("type") in MEDIA_COMPONENTS:
                return f"{owner}.{name}"
    return None


def _action_problems(
    where: str,
    footer: dict[str, Any],
    screen: dict[str, Any],
    inputs: Mapping[Any, dict[str, dict[str, Any]]],
    screens: list[dict[str, Any]],
) -> Iterator[str]:
    action = _action(footer)
    name = action.get("name")
    payload = action.get("payload", {})
    if name not in ("navigate", "complete", "data_exchange", "update_data"):
        yield f"{where}: the Footer's on-click-action must be navigate, complete or data_exchange (got {name!r})"
        return
    if not isinstance(payload, dict):
        yield f"{where}: the {name} payload must be an object"
        return
    if name == "complete":
        for key in RESERVED_PAYLOAD_KEYS & set(payload):
            yield f"{where}: the complete payload may not use the key {key}, which WhatsApp adds itself"
        for key, value in payload.items():
            picker = _media_reference(value, screen.get("id"), inputs)
            if picker is None:
                continue
            if not (isinstance(value, str) and _REFERENCE.fullmatch(value)):
                yield f"{where}: the picker {picker} may only be a whole top-level value of the payload ({key})"
            owner, _, field_name = picker.partition(".")
            component = inputs.get(owner, {}).get(field_name, {})
            noun = "photos" if component.get("type") == "PhotoPicker" else "documents"
            if component.get(f"max-uploaded-{noun}", 30) != 1:
                yield f"{where}: the picker {picker} in a complete payload must allow one file (max-uploaded-{noun}: 1)"
    if name == "navigate":
        target = action.get("next", {}).get("name") if isinstance(action.get("next"), dict) else None
        known = {s.get("id"): s for s in screens}
        if target not in known:
            yield f"{where}: navigate goes to an unknown screen {target!r}"
            return
        if target == screen.get("id"):
            yield f"{where}: navigate may not go to the same screen"
        for key, value in payload.items():
            if (picker := _media_reference(value, screen.get("id"), inputs)) is not None:
                yield f"{where}: the picker {picker} may not be carried by navigate ({key}); use ${{screen...}}"
        data = _data_model(known[target])
        if set(payload) != set(data):
            yield (
                f"{where}: the navigate payload ({', '.join(sorted(payload)) or 'empty'}) must match the data of "
                f"{target} ({', '.join(sorted(data)) or 'none'})"
            )


def _routing_problems(flow: dict[str, Any], screens: list[dict[str, Any]]) -> Iterator[str]:
    ids = [s.get("id") for s in screens]
    terminals = [s.get("id") for s in screens if s.get("terminal") is True]
    if len(terminals) != 1:
        yield f"screens: exactly one terminal screen is required (found {len(terminals)})"
    endpoint = "data_api_version" in flow
    if endpoint and not isinstance(flow.get("routing_model"), dict):
        yield "routing_model: required when data_api_version is given"
    routing = flow.get("routing_model")
    if isinstance(routing, dict):
        for source, targets in routing.items():
            for screen_id in [source, *(targets if isinstance(targets, list) else [])]:
                if screen_id not in ids:
                    yield f"routing_model: names an unknown screen {screen_id!r}"
    for screen in screens:
        for footer in _footers(screen):
            if _action(footer).get("name") == "data_exchange" and not endpoint:
                yield f"screen {screen.get('id')}: data_exchange needs a data endpoint (data_api_version)"
    edges: dict[Any, list[Any]] = {i: [] for i in ids}
    for screen in screens:
        for footer in _footers(screen):
            action = _action(footer)
            target = action.get("next", {}).get("name") if isinstance(action.get("next"), dict) else None
            if action.get("name") == "navigate" and target in edges and target != screen.get("id"):
                edges[screen.get("id")].append(target)
    if endpoint:
        return  # the endpoint routes; the routing model says where
    entries = [i for i in ids if not any(i in targets for targets in edges.values())]
    if len(entries) != 1:
        yield f"screens: exactly one entry screen (no navigate leads to it) is required (found {len(entries)})"
        return
    seen: list[Any] = []
    stack = [entries[0]]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.append(current)
            stack += edges[current]
    for screen_id in ids:
        if screen_id not in seen:
            yield f"screen {screen_id}: no navigate leads to it from {entries[0]}"
    if _has_cycle(edges):
        yield "screens: the navigate actions form a loop"


def _unsent_inputs(screens: list[dict[str, Any]], inputs: Mapping[Any, dict[str, dict[str, Any]]]) -> Iterator[str]:
    """Inputs no action payload sends on: the citizen's answer would be lost."""
    sent: set[tuple[Any, str]] = set()
    for screen in screens:
        for footer in _footers(screen):
            for text in _strings(_action(footer).get("payload")):
                for reference in _REFERENCE.findall(text):
                    parts = reference.split(".")
                    if len(parts) == 2 and parts[0] == "form":
                        sent.add((screen.get("id"), parts[1]))
                    elif len(parts) == 4 and parts[0] == "screen" and parts[2] == "form":
                        sent.add((parts[1], parts[3]))
    for screen_id, named in inputs.items():
        for name in named:
            if (screen_id, name) not in sent:
                yield f"screen {screen_id}: no payload sends the answer to {name} on"


def _has_cycle(edges: Mapping[Any, list[Any]]) -> bool:
    state: dict[Any, int] = {}  # 1: on the path, 2: done

    def visit(node: Any) -> bool:
        state[node] = 1
        for target in edges.get(node, []):
            if state.get(target) == 1 or (target not in state and visit(target)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in edges)


def _version_problems(version: tuple[int, int] | None, screens: list[dict[str, Any]]) -> Iterator[str]:
    if version is None:
        return
    uses_pickers = any(c.get("type") in MEDIA_COMPONENTS for s in screens for c in _children(s))
    uses_screen_refs = any("${screen." in text for s in screens for text in _strings(s.get("layout")))
    outside_form = any(
        c.get("type") in INPUT_COMPONENTS
        for s in screens
        for c in (s.get("layout", {}).get("children", []) if isinstance(s.get("layout"), dict) else [])
        if isinstance(c, dict)
    )
    if (uses_pickers or uses_screen_refs or outside_form) and version < MIN_VERSION_GLOBAL_REFS:
        yield "version: pickers, ${screen...} references and inputs outside a Form need Flow JSON 4.0 or later"
    if any("sensitive" in s for s in screens) and version < MIN_VERSION_SENSITIVE:
        yield "version: sensitive fields need Flow JSON 5.1 or later"
