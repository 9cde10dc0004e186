"""Load the versioned schema files in ``schemas/``: the single source of truth for records.

Record schemas (``action``, ``state``, ``camera``, ``skeleton``, ``observation``) describe
fields by name, dtype, shape, unit, convention and whether a value may be missing. Format
schemas (store manifest, WildBench split, submission and results) are JSON Schema documents,
validated with :func:`validate_document`.

Nothing else in the code base restates these fields by hand: the state.csv reader, the
validator and the store all ask this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from .errors import FormatError, SchemaVersionError, WildWorldError

__all__ = [
    "FieldSpec",
    "EntitySpec",
    "RecordSchema",
    "StateSchema",
    "load_record_schema",
    "load_state_schema",
    "load_format_schema",
    "validate_document",
    "read_document",
    "check_version",
    "schema_dir",
    "SUPPORTED_MAJOR",
]

#: Major schema version this code reads. A file with another major version is refused.
SUPPORTED_MAJOR = 1

_DTYPES = ("float64", "float32", "int64", "uint8", "bool", "string")


def schema_dir() -> Path:
    """Directory holding the schema files (inside the wheel, or ``schemas/`` of a checkout)."""
    try:
        packaged = resources.files("wildworld") / "_schemas"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - exotic loaders
        pass
    checkout = Path(__file__).resolve().parent.parent / "schemas"
    if checkout.is_dir():
        return checkout
    raise WildWorldError(  # pragma: no cover - broken installation
        "cannot find the schema files: reinstall wildworld (they ship as wildworld/_schemas)"
    )


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record: what it is called, its type and shape, and what it means."""

    name: str
    dtype: str
    shape: tuple[Any, ...]
    unit: str = ""
    convention: str = ""
    missing: bool = True
    required: bool = True
    description: str = ""
    csv: str | None = None
    categories: tuple[str, ...] = ()
    missing_value: Any = None
    derived: str | None = None

    def __post_init__(self) -> None:
        if self.dtype not in _DTYPES:
            raise FormatError(f"field {self.name!r} has dtype {self.dtype!r}; expected one of {_DTYPES}")

    @property
    def width(self) -> int | None:
        """Tuple width k for a fixed-size vector field ``(k,)``, else ``None``."""
        if len(self.shape) == 1 and isinstance(self.shape[0], int):
            return self.shape[0]
        return None

    @property
    def is_id(self) -> bool:
        return self.dtype == "int64" and not self.shape

    @property
    def is_text(self) -> bool:
        return self.dtype == "string"

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "FieldSpec":
        return cls(
            name=obj["name"],
            dtype=obj["dtype"],
            shape=tuple(obj.get("shape", ())),
            unit=obj.get("unit", ""),
            convention=obj.get("convention", ""),
            missing=bool(obj.get("missing", True)),
            required=bool(obj.get("required", True)),
            description=obj.get("description", ""),
            csv=obj.get("csv"),
            categories=tuple(obj.get("categories", ())),
            missing_value=obj.get("missing_value"),
            derived=obj.get("derived"),
        )


@dataclass(frozen=True)
class RecordSchema:
    """A record schema: a named, versioned list of fields."""

    name: str
    version: str
    description: str
    fields: tuple[FieldSpec, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"schema {self.name} has no field {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)


@dataclass(frozen=True)
class EntitySpec:
    """A kind of entity in state.csv (player or monster) and its per-instance fields."""

    kind: str
    column_prefix: str
    skeleton_kind: str
    fields: tuple[FieldSpec, ...]

    def column(self, index: int, field_name: str) -> str:
        return self.column_prefix.format(index=index) + field_name

    @property
    def column_regex(self) -> re.Pattern[str]:
        """Matches ``<prefix with any index><field>`` and captures ``index`` and ``field``."""
        head, _, tail = self.column_prefix.partition("{index}")
        return re.compile("^" + re.escape(head) + r"(?P<index>[0-9]+)" + re.escape(tail) + r"(?P<field>.+)$")

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.kind} has no field {name!r}")


@dataclass(frozen=True)
class StateSchema:
    """The state record: global columns plus per-entity columns discovered from a header."""

    version: str
    description: str
    globals: tuple[FieldSpec, ...]
    entities: Mapping[str, EntitySpec]

    def column_spec(self, column: str) -> FieldSpec | None:
        """The field spec behind a state.csv column name, or ``None`` for an unknown column."""
        for spec in self.globals:
            if spec.name == column:
                return spec
        for entity in self.entities.values():
            match = entity.column_regex.match(column)
            if match:
                try:
                    return entity.field(match["field"])
                except KeyError:
                    return None
        return None

    def entity_indices(self, columns: list[str] | tuple[str, ...], kind: str) -> list[int]:
        """Sorted entity indices of ``kind`` present in a header."""
        regex = self.entities[kind].column_regex
        found = {int(m["index"]) for m in map(regex.match, columns) if m}
        return sorted(found)


def check_version(found: Any, *, what: str, supported_major: int = SUPPORTED_MAJOR) -> None:
    """Refuse a file whose major version differs from what this code reads."""
    text = str(found)
    match = re.match(r"^(\d+)(\.\d+)*$", text)
    if not match:
        raise SchemaVersionError(f"{what}: version {text!r} is not of the form MAJOR.MINOR")
    if int(match.group(1)) != supported_major:
        raise SchemaVersionError(
            f"{what}: written with schema version {text}, this wildworld reads version "
            f"{supported_major}.x; install a wildworld release that supports it"
        )


def _load_json(name: str) -> dict[str, Any]:
    path = schema_dir() / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WildWorldError(f"schema file {path} is missing from this installation") from None


@lru_cache(maxsize=None)
def load_record_schema(name: str) -> RecordSchema:
    """Load ``schemas/<name>.v1.json`` for name in action, camera, skeleton, observation."""
    doc = _load_json(f"{name}.v1.json")
    check_version(doc["version"], what=f"schema {name}")
    extra = {k: v for k, v in doc.items() if k not in ("schema", "version", "description", "fields")}
    return RecordSchema(
        name=doc["schema"],
        version=doc["version"],
        description=doc.get("description", ""),
        fields=tuple(FieldSpec.from_json(f) for f in doc.get("fields", ())),
        extra=extra,
    )


@lru_cache(maxsize=None)
def load_state_schema() -> StateSchema:
    """Load ``schemas/state.v1.json``."""
    doc = _load_json("state.v1.json")
    check_version(doc["version"], what="schema state")
    entities = {
        kind: EntitySpec(
            kind=kind,
            column_prefix=spec["column_prefix"],
            skeleton_kind=spec["skeleton_kind"],
            fields=tuple(FieldSpec.from_json(f) for f in spec["fields"]),
        )
        for kind, spec in doc["entities"].items()
    }
    return StateSchema(
        version=doc["version"],
        description=doc.get("description", ""),
        globals=tuple(FieldSpec.from_json(f) for f in doc["globals"]),
        entities=entities,
    )


@lru_cache(maxsize=None)
def load_format_schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema document ``schemas/<name>.schema.json`` (manifest, split, ...)."""
    return _load_json(f"{name}.schema.json")


def validate_document(document: Any, schema_name: str, *, path: object = None) -> None:
    """Validate a JSON document against a format schema; raise ``FormatError`` naming the key."""
    import jsonschema

    schema = load_format_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        key = "/".join(str(p) for p in first.absolute_path) or "<root>"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise FormatError(f"does not follow {schema_name} schema: {first.message}{more}", path=path, key=key)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(text: str):
    """``json.loads`` that refuses NaN and Infinity (not JSON) with a ``ValueError``."""
    return json.loads(text, parse_constant=_refuse_constant)


def read_document(
    path: str | Path,
    schema_name: str,
    *,
    error: type[Exception] = FormatError,
    missing: str = "no such file",
    version_key: str | None = None,
) -> dict:
    """Read a JSON file, validate it against a format schema and (optionally) its major version.

    Every failure raises ``error`` with a one-line message naming the file: ``missing`` says
    what to do when it does not exist.
    """
    path = Path(path)
    try:
        doc = loads_strict(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a JSON file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except RecursionError:
        raise error(f"{path}: not valid JSON (nested too deeply)") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise error(f"{path}: not valid JSON ({exc})") from None
    try:
        validate_document(doc, schema_name, path=path)
    except FormatError as exc:
        raise error(str(exc)) from None
    if version_key is not None:
        check_version(doc[version_key], what=str(path))
    return doc
