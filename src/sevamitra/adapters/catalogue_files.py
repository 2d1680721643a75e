"""Reads the catalogue (departments, services) and the locale texts from their YAML files.

Service files carry a `spec_version`; older versions are migrated on load, so a state can keep
files written for an earlier release. Problems are collected with the file they come from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sevamitra.core.catalogue import (
    Catalogue,
    Delivery,
    Department,
    Fee,
    Output,
    Rebate,
    Service,
    Sla,
)
from sevamitra.core.fees import rebate_problems
from sevamitra.core.fields import FieldSpec, Option
from sevamitra.core.texts import Texts

DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parents[3] / "catalogue"
SPEC_VERSION = 2

# The C loader is several times faster on hundreds of files; the Python one where libyaml is missing.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Language = Annotated[str, Field(pattern=r"^(te|en|hi)$")]
Localised = dict[Language, str]


class _DepartmentFile(_Strict):
    id: Slug
    code: str = Field(pattern=r"^[A-Z]{2,5}$")
    names: Localised
    descriptions: Localised = {}


class _DepartmentsFile(_Strict):
    departments: list[_DepartmentFile]


class _Option(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    te: str
    en: str
    hi: str
    authority: str | None = None


class _Field(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    type: str
    required: bool = True
    label: Localised = {}
    hint: Localised = {}
    options: list[_Option] = []
    rules: dict[str, Any] = {}
    accept: list[str] = []
    max_mb: float | None = None


class _Rebate(_Strict):
    percent: int  # its range, the day and the fee it fits are checked by core.fees.rebate_problems
    until: str
    of: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    unless: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = None


class _Fee(_Strict):
    kind: Literal["free", "fixed", "per_unit", "rule"]
    amount_inr: int | None = Field(default=None, ge=0)
    unit: Localised = {}
    per_field: str | None = None
    rule: str | None = None
    rebate: _Rebate | None = None
    refundable: bool = False

    @model_validator(mode="after")
    def _sound_rebate(self) -> _Fee:
        problems = rebate_problems(_fee(self.model_dump()))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class _Sla(_Strict):
    days: int | None = Field(default=None, ge=0)
    minutes: int | None = Field(default=None, ge=0)
    deemed_approval: bool = False  # approved by law when the last officer lets the time pass

    @model_validator(mode="after")
    def _one_of(self) -> _Sla:
        if (self.days is None) == (self.minutes is None):
            raise ValueError("give the SLA in days or in minutes")
        return self


class _Delivery(_Strict):
    kind: Literal["instant", "reviewed"] = Field(alias="class")
    approvers: list[str] = []
    registry: str | None = None


class _Validity(_Strict):
    months: int = Field(gt=0)


class _Output(_Strict):
    kind: Literal["certificate", "receipt", "booking_pass", "information", "grievance_ticket"]
    template: str | None = None
    validity: _Validity | None = None


class _ServiceFile(_Strict):
    spec_version: Literal[2]
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$")]
    version: int = Field(ge=1)
    code: Annotated[str, Field(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*$", max_length=16)]
    department: Slug
    names: Localised
    summary: Localised
    aliases: dict[Literal["te", "en", "hi", "te_latn", "hi_latn"], list[str]] = {}
    eligibility: Localised = {}
    jurisdiction: Literal["state", "district", "mandal", "secretariat"]
    delivery: _Delivery
    sla: _Sla
    fee: _Fee
    fields: list[_Field] = []
    documents: list[Localised] = []
    output: _Output
    faq: dict[Literal["fee", "documents", "time", "office", "eligibility"], Localised] = {}
    source: str


def migrate_service(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a service file's data to the current `spec_version`, one version at a time."""
    version = data.get("spec_version")
    if version == 1:  # v1 kept rules as a list of one-key maps, options as bare ids, `te-Latn` aliases
        data = dict(data)
        data["fields"] = [_field_v1_to_v2(f) for f in data.get("fields", [])]
        aliases = dict(data.get("aliases") or {})
        if "te-Latn" in aliases:
            aliases["te_latn"] = aliases.pop("te-Latn")
        data["aliases"] = aliases
        data["spec_version"] = 2
    return data


def _field_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    rules = data.get("rules")
    if isinstance(rules, list):
        data["rules"] = {k: v for rule in rules for k, v in rule.items()}
    options = data.get("options")
    if options and all(isinstance(o, str) for o in options):
        # v1 had no translations: the English label stands in until the file is translated (lint says so)
        data["options"] = [{"id": o, "en": o.replace("_", " ").capitalize(), "te": "", "hi": ""} for o in options]
    return data


def definition_hash(data: dict[str, Any]) -> str:
    """A content hash of a service definition, recorded with every application made under it."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _field(f: dict[str, Any]) -> FieldSpec:
    return FieldSpec(
        id=f["id"],
        type=f["type"],
        required=f["required"],
        labels=f["label"],
        hints=f["hint"],
        options=tuple(
            Option(id=o["id"], labels={"te": o["te"], "en": o["en"], "hi": o["hi"]}, authority=o["authority"])
            for o in f["options"]
        ),
        rules=f["rules"],
        accept=tuple(f["accept"]),
        max_mb=f["max_mb"],
    )


def _fee(fee: dict[str, Any]) -> Fee:
    rebate = fee.get("rebate")
    return Fee(
        kind=fee["kind"],
        amount_inr=fee["amount_inr"],
        unit=fee["unit"],
        per_field=fee["per_field"],
        rule=fee["rule"],
        rebate=Rebate(**rebate) if rebate else None,
        refundable=bool(fee.get("refundable", False)),
    )


def _service(data: dict[str, Any], digest: str, fields: tuple[FieldSpec, ...]) -> Service:
    """A service from a validated file's data (`_ServiceFile.model_dump(by_alias=True)`), its fields built."""
    delivery, fee, output = data["delivery"], data["fee"], data["output"]
    return Service(
        id=data["id"],
        department_id=data["department"],
        names=data["names"],
        summaries=data["summary"],
        code=data["code"],
        version=data["version"],
        spec_version=data["spec_version"],
        aliases={k: tuple(v) for k, v in data["aliases"].items()},
        eligibility=data["eligibility"],
        jurisdiction=data["jurisdiction"],
        delivery=Delivery(
            kind=delivery["class"], approvers=tuple(delivery["approvers"]), registry=delivery["registry"]
        ),
        sla=Sla(
            days=data["sla"]["days"],
            minutes=data["sla"]["minutes"],
            deemed_approval=data["sla"].get("deemed_approval", False),
        ),
        fee=_fee(fee),
        fields=fields,
        documents=tuple(data["documents"]),
        output=Output(
            kind=output["kind"],
            template=output["template"],
            validity_months=output["validity"]["months"] if output["validity"] else None,
        ),
        faq=data["faq"],
        source=data["source"],
        definition_hash=digest,
    )


def _department(data: dict[str, Any]) -> Department:
    return Department(id=data["id"], code=data["code"], names=data["names"], descriptions=data["descriptions"])


@dataclass(frozen=True, slots=True)
class FileProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class CatalogueFilesError(ValueError):
    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 (the safe loader, C or Python)


def _errors(error: ValidationError) -> Iterator[str]:
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"])
        yield f"{where}: {e['msg']}" if where else str(e["msg"])


def _service_paths(root: Path) -> list[Path]:
    return sorted((root / "services").glob("*/*.yaml"))


def read_catalogue(root: Path = DEFAULT_CATALOGUE_DIR) -> tuple[Catalogue | None, list[FileProblem]]:
    """The catalogue and every problem found in its files (None when it cannot be built)."""
    catalogue, problems, _ = _parse(root)
    return catalogue, problems


def _parse(root: Path) -> tuple[Catalogue | None, list[FileProblem], dict[str, Any]]:
    """Parse and validate every file; also the validated data, for the snapshot."""
    problems: list[FileProblem] = []
    departments_path = root / "departments.yaml"
    try:
        departments = [d.model_dump() for d in _DepartmentsFile.model_validate(_read(departments_path)).departments]
    except (ValueError, OSError, yaml.YAMLError, RecursionError) as error:  # ValueError: not UTF-8, or invalid
        messages = _errors(error) if isinstance(error, ValidationError) else [str(error)]
        return None, [FileProblem(departments_path, m) for m in messages], {}
    ids = [d["id"] for d in departments]
    if twice := sorted({i for i in ids if ids.count(i) > 1}):
        return None, [FileProblem(departments_path, f"department id {i} is used twice") for i in twice], {}
    dumps: list[tuple[dict[str, Any], str]] = []
    seen: dict[str, Path] = {}
    for path in _service_paths(root):
        try:
            raw = migrate_service(_read(path))
            data = _ServiceFile.model_validate(raw).model_dump(by_alias=True)
            json.dumps(data, sort_keys=True)  # as the snapshot will: YAML's dates, sets and mixed keys fail here
            digest = definition_hash(raw)
        except ValidationError as error:
            problems += [FileProblem(path, m) for m in _errors(error)]
            continue
        except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError, RecursionError) as error:
            problems.append(FileProblem(path, f"not a service definition: {error}"))
            continue
        if data["id"] in seen:
            problems.append(FileProblem(path, f"service id {data['id']} is also used by {seen[data['id']]}"))
            continue
        seen[data["id"]] = path
        if path.parent.name != data["department"]:
            where = f"file is under {path.parent.name}/ but names department {data['department']}"
            problems.append(FileProblem(path, where))
        dumps.append((data, digest))
    known = {d["id"] for d in departments}
    unknown = [(data, seen[data["id"]]) for data, _ in dumps if data["department"] not in known]
    problems += [FileProblem(path, f"unknown department {data['department']}") for data, path in unknown]
    if unknown:
        return None, problems, {}
    snapshot = _snapshot(departments, dumps)
    try:
        return _build(snapshot), problems, snapshot
    except ValueError as error:  # what the core's types refuse and the file formats let through
        return None, [*problems, FileProblem(root, str(error))], {}


def _snapshot(departments: list[dict[str, Any]], dumps: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """Validated data with each distinct field definition stored once (services share most of them)."""
    table: dict[str, int] = {}
    services = []
    for data, digest in dumps:
        refs = [table.setdefault(json.dumps(f, sort_keys=True, ensure_ascii=False), len(table)) for f in data["fields"]]
        services.append({"data": {**data, "fields": refs}, "hash": digest})
    return {"departments": departments, "fields": [json.loads(key) for key in table], "services": services}


def _build(snapshot: dict[str, Any]) -> Catalogue:
    fields = [_field(f) for f in snapshot["fields"]]
    return Catalogue(
        departments=tuple(_department(d) for d in snapshot["departments"]),
        services=tuple(
            _service(s["data"], s["hash"], tuple(fields[i] for i in s["data"]["fields"])) for s in snapshot["services"]
        ),
    )


def _fingerprint(root: Path) -> str:
    """Changes whenever a catalogue file is added, removed or touched (and with this loader's format)."""
    digest = hashlib.sha256(f"{SPEC_VERSION}:{Path(__file__).stat().st_mtime_ns}".encode())
    for path in [root / "departments.yaml", *_service_paths(root)]:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:32]


def load_catalogue(root: Path = DEFAULT_CATALOGUE_DIR, *, cache_dir: Path | None = None) -> Catalogue:
    """The catalogue, or CatalogueFilesError listing every problem in the files.

    With `cache_dir`, a validated snapshot (JSON) of the files is kept there and reused while no
    file changes: parsing hundreds of YAML files is the slow part of starting a process.
    """
    snapshot_path = cache_dir / f"catalogue-{_fingerprint(root)}.json" if cache_dir else None
    if snapshot_path is not None and snapshot_path.exists():
        return _build(json.loads(snapshot_path.read_bytes()))
    catalogue, problems, snapshot = _parse(root)
    if catalogue is None or problems:
        raise CatalogueFilesError(problems)
    if snapshot_path is not None:
        snapshot_path.parent.mkdir(parents=True, exist_ok=True)
        partial = snapshot_path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        partial.replace(snapshot_path)  # atomic: another process never reads half a snapshot
        for stale in snapshot_path.parent.glob("catalogue-*.json"):
            if stale != snapshot_path:
                stale.unlink(missing_ok=True)
    return catalogue


def load_texts(root: Path = DEFAULT_CATALOGUE_DIR) -> Texts:
    by_language: dict[str, dict[str, str]] = {}
    for path in sorted((root / "locales").glob("*/*.yaml")):
        data = _read(path)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of text keys")
        by_language.setdefault(path.parent.name, {}).update({str(k): str(v) for k, v in data.items()})
    return Texts(by_language=by_language)


def load_lexicon(root: Path = DEFAULT_CATALOGUE_DIR) -> dict[str, dict[str, Any]]:
    """The assistant's lexicon (`nlu/lexicon.yaml`): filler words, question words, intent phrases,
    each by language; every entry a string (YAML's `on`, `no` and numbers are refused, not guessed)."""
    path = root / "nlu" / "lexicon.yaml"
    data = _read(path)
    problems: list[str] = []
    if not isinstance(data, dict) or not {"filler", "ask", "intent"} <= set(data):
        raise ValueError(f"{path}: expected the sections filler, ask and intent")

    def check(where: str, by_language: Any) -> None:
        if not isinstance(by_language, dict):
            problems.append(f"{where}: expected a mapping of languages")
            return
        for language, entries in by_language.items():
            if not isinstance(entries, list) or not all(isinstance(e, str) and e.strip() for e in entries):
                problems.append(f"{where}.{language}: expected a list of words or phrases (quote YAML's on, no, yes)")

    for section in ("filler", "outside", "region"):  # lists by language (a region: by tag)
        if section in data:
            check(section, data[section])
    for section in ("ask", "intent"):
        for kind, by_language in data[section].items():
            check(f"{section}.{kind}", by_language)
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return data
