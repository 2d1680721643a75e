"""Registries read from YAML seed files, `catalogue/registries/<registry>.yaml`: synthetic data.

Each file is read once, when the `FileRegistry` is built, and indexed by the registry's lookup
keys (`core.decisions.lookup_keys`). Bus routes are found by town names as citizens type them;
temple slot pools and scheme rules by words in the service id. A department's API implements
the same `core.decisions.Registry` port in production.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from sevamitra.core.decisions import UnknownRegistry, key_text, lookup_keys

DEFAULT_REGISTRY_DIR = Path(__file__).resolve().parents[3] / "catalogue" / "registries"
BY_SERVICE = frozenset({"temple_slots", "scheme_rules"})  # found by words in the service id

Record = Mapping[str, Any]


class RegistryFileError(ValueError):
    """A seed file is malformed or repeats a key; the message names the file."""


def town_key(text: object) -> str:
    """A town name as typed, reduced for matching: casefolded letters, marks and digits only."""
    folded = unicodedata.normalize("NFC", str(text)).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LMN")


def _plain(value: Any) -> Any:
    """YAML values as the registry port promises them: ISO dates as text, read-only mappings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _plain(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _words(record: Record, name: str) -> tuple[str, ...]:
    words = record.get(name, ())
    return tuple(str(w).casefold() for w in words) if isinstance(words, list | tuple) else ()


class FileRegistry:
    """Every registry with a seed file under `root`; lookups are dictionary reads."""

    def __init__(self, root: Path = DEFAULT_REGISTRY_DIR) -> None:
        self._records: dict[str, tuple[Record, ...]] = {}
        self._index: dict[str, dict[tuple[str, ...], Record]] = {}
        self._towns: dict[str, str] = {}
        for path in sorted(root.glob("*.yaml")):
            self._load(path)

    @property
    def registries(self) -> frozenset[str]:
        """The registries that have a seed file."""
        return frozenset(self._records)

    def records(self, registry: str) -> tuple[Record, ...]:
        """Every record of a registry, in file order."""
        return self._records.get(registry, ())

    def town(self, text: object) -> str:
        """The key of a town as typed, its aliases resolved (`Vizag` is Visakhapatnam's)."""
        key = town_key(text)
        return self._towns.get(key, key)

    async def lookup(self, registry: str, service_id: str, keys: Mapping[str, Any]) -> Record | None:
        """The record for `keys`, or for `service_id` in a registry keyed by service; None if none."""
        names = lookup_keys(registry)
        if registry in BY_SERVICE:
            return self._for_service(registry, service_id)
        if not names or any(keys.get(name) in (None, "") for name in names):
            return None
        return self._index.get(registry, {}).get(self._key(registry, keys))

    def _key(self, registry: str, values: Mapping[str, Any]) -> tuple[str, ...]:
        if registry == "bus_services":
            return tuple(self.town(values[name]) for name in lookup_keys(registry))
        return tuple(key_text(values[name]) for name in lookup_keys(registry))

    def _for_service(self, registry: str, service_id: str) -> Record | None:
        wanted = service_id.casefold()
        for record in self._records.get(registry, ()):
            kinds = _words(record, "kinds")
            if any(w in wanted for w in _words(record, "match")) and (not kinds or any(k in wanted for k in kinds)):
                return record
        return None

    def _load(self, path: Path) -> None:
        registry = path.stem
        try:
            names = lookup_keys(registry)
            with path.open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (UnknownRegistry, OSError, yaml.YAMLError) as error:
            raise RegistryFileError(f"{path.name}: {error}") from error
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise RegistryFileError(f"{path.name}: expected a mapping with a `records` list")
        for town, aliases in (data.get("towns") or {}).items():
            for alias in [town, *aliases]:
                self._towns[town_key(alias)] = town_key(town)
        records = tuple(_plain(r) for r in data["records"])
        index: dict[tuple[str, ...], Record] = {}
        key: tuple[str, ...]
        for number, record in enumerate(records, 1):
            if not isinstance(record, Mapping):
                raise RegistryFileError(f"{path.name}: record {number} is not a mapping")
            if registry in BY_SERVICE:
                key = (",".join(_words(record, "match")), ",".join(_words(record, "kinds")))
                if not key[0]:
                    raise RegistryFileError(f"{path.name}: record {number} has no `match` words")
            elif missing := [name for name in names if record.get(name) in (None, "")]:
                raise RegistryFileError(f"{path.name}: record {number} lacks {', '.join(missing)}")
            else:
                key = self._key(registry, record)
            if key in index:
                raise RegistryFileError(f"{path.name}: record {number} repeats the key {key}")
            index[key] = record
        self._records[registry] = records
        self._index[registry] = index
