"""ERP mappings: one TOML file per export shape, checked against a published JSON Schema, then compiled.

A mapping says how to read an export (``[source]``) and where each canonical field comes from (``[fields.X]``).
Every problem names the key that is wrong (``fields.quantity.multiply: …``) so that the IT person who wrote
the mapping can fix it without reading code. The schema is ``docs/schema/erp-mapping.schema.json``.
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from lxml import etree

from gateway.errors import ReferenceDataError
from gateway.kinds.erp.targets import FIELDS, Field

_SOURCE_KEYS = ("column", "position", "xpath", "path", "concat", "value")
#: which ways of naming a source value each format understands
_FORMAT_KEYS = {"csv": {"column", "position"}, "xlsx": {"column", "position"}, "xml": {"xpath"}, "json": {"path"}}
#: source options that only mean something for one format
_FORMAT_OPTIONS = {
    "encoding": "csv", "delimiter": "csv", "quotechar": "csv", "quoting": "csv", "header": "csv", "skip_rows": "csv",
    "sheet": "xlsx", "header_row": "xlsx", "namespaces": "xml", "lines": "json",
}


class MappingError(ReferenceDataError, ValueError):
    """The mapping is wrong; ``problems`` are (key, message) pairs, the key in dotted form."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" if key else message for key, message in problems))


@dataclass(frozen=True)
class Source:
    format: str
    encoding: str = "utf-8"
    delimiter: str = ","
    quotechar: str = '"'
    quoting: str = "minimal"
    header: bool = True
    skip_rows: int = 0
    decimal: str = "."
    thousands: str = ""
    sheet: str | None = None
    header_row: int = 1
    records: str = ""
    namespaces: dict[str, str] = field(default_factory=dict)
    lines: bool = False


@dataclass(frozen=True)
class FieldRule:
    """Where one canonical field comes from and how its value is cleaned."""

    name: str
    target: Field
    #: ``column`` | ``position`` | ``xpath`` | ``path`` | ``value``; ``concat`` items are of the format's kind
    how: str
    sources: tuple[str | int, ...] = ()
    concat: bool = False
    separator: str = ""
    value: str | None = None
    required: bool = False
    default: str | None = None
    pattern: re.Pattern[str] | None = None
    map: dict[str, str] | None = None
    map_unknown: str = "error"
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    multiply: Decimal | None = None
    trim: bool = True

    @property
    def label(self) -> str:
        """The source as users know it: the column header, the position or the XPath."""
        if self.how == "value":
            return "(constante)"
        parts = [f"columna {s}" if isinstance(s, int) else str(s) for s in self.sources]
        return " + ".join(parts)


@dataclass(frozen=True)
class Mapping:
    name: str
    target: str
    source: Source
    fields: tuple[FieldRule, ...]
    on_bad_row: str = "reject-file"
    chunk_rows: int = 5000
    description: str = ""
    path: Path | None = None


@cache
def schema() -> dict[str, Any]:
    text = resources.files("gateway.kinds.erp").joinpath("mapping.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def load(path: Path, name: str | None = None) -> Mapping:
    """Read and check one mapping file; raises MappingError naming every wrong key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError([("", f"no existe el archivo de mapeo {path}")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError([("", f"{path.name} no es TOML válido: {exc}")]) from None
    return parse(raw, name or path.stem, path)


def parse(raw: dict[str, Any], name: str, path: Path | None = None) -> Mapping:
    problems = _schema_problems(raw)
    if problems:
        raise MappingError(problems)
    target = raw["target"]
    source = _source(raw["source"], problems)
    rules = [_rule(key, spec, FIELDS[target], source, problems) for key, spec in raw["fields"].items()]
    for spec in FIELDS[target].values():
        if spec.required and spec.name not in raw["fields"]:
            problems.append((f"fields.{spec.name}", f"{target} exige {spec.label} ({spec.name}); falta en el mapeo"))
    if problems:
        raise MappingError(problems)
    return Mapping(name=name, target=target, source=source, fields=tuple(r for r in rules if r is not None),
                   on_bad_row=raw.get("on_bad_row", "reject-file"), chunk_rows=raw.get("chunk_rows", 5000),
                   description=raw.get("description", ""), path=path)


def _schema_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    validator = Draft202012Validator(schema())
    for err in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path))):
        key = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = [p for p in err.validator_value if isinstance(err.instance, dict) and p not in err.instance]
            problems += [(_join(key, p), "falta (obligatorio)") for p in missing]
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = set(err.schema.get("properties", {}))
            problems += [(_join(key, p), f"clave desconocida (válidas: {', '.join(sorted(known))})")
                         for p in err.instance if p not in known]
        elif err.validator == "enum":
            problems.append((key, f"{err.instance!r} no es válido; use {' | '.join(map(str, err.validator_value))}"))
        else:
            problems.append((key, err.message))
    return problems


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _source(raw: dict[str, Any], problems: list[tuple[str, str]]) -> Source:
    fmt = raw["format"]
    for key, only in _FORMAT_OPTIONS.items():
        if key in raw and only != fmt:
            problems.append((f"source.{key}", f"solo aplica a format = \"{only}\" (este mapeo es {fmt})"))
    if "encoding" in raw:
        try:
            codecs.lookup(raw["encoding"])
        except LookupError:
            problems.append(("source.encoding", f"codificación desconocida '{raw['encoding']}' "
                                                "(ejemplos: utf-8, cp1252, latin-1)"))
    if fmt == "xml" and not raw.get("records"):
        problems.append(("source.records", "format = \"xml\" necesita la ruta de los registros (p. ej. Envios/Envio)"))
    if raw.get("decimal") and raw.get("decimal") == raw.get("thousands"):
        problems.append(("source.thousands", "no puede ser igual al separador decimal"))
    return Source(**raw)


def _rule(name: str, raw: dict[str, Any], fields: dict[str, Field], source: Source,
          problems: list[tuple[str, str]]) -> FieldRule | None:
    key = f"fields.{name}"
    target = fields.get(name)
    if target is None:
        problems.append((key, f"el tipo canónico no tiene ese campo (campos: {', '.join(fields)})"))
        return None
    given = [k for k in _SOURCE_KEYS if k in raw]
    if len(given) != 1:
        problems.append((key, f"indique exactamente una de {', '.join(_SOURCE_KEYS)} "
                              f"(hay: {', '.join(given) or 'ninguna'})"))
        return None
    how = given[0]
    before = len(problems)
    sources: tuple[str | int, ...] = ()
    if how == "concat":
        sources = tuple(raw["concat"])
        kinds = {("position" if isinstance(s, int) else _name_key(source.format)) for s in sources}
        how = "position" if kinds == {"position"} else _name_key(source.format)
        if len(kinds) > 1 and source.format in ("xml", "json"):
            problems.append((f"{key}.concat", "en XML y JSON los elementos son rutas (texto), no posiciones"))
    elif how != "value":
        sources = (raw[how],)
    if how != "value" and how not in _FORMAT_KEYS[source.format]:
        problems.append((f"{key}.{given[0]}", f"no aplica a format = \"{source.format}\" "
                                              f"(use {' o '.join(sorted(_FORMAT_KEYS[source.format]))})"))
    if how == "column" and source.format == "csv" and not source.header:
        problems.append((f"{key}.{given[0]}", "el CSV no tiene encabezado (source.header = false): use position"))
    if raw.get("type") and raw["type"] != target.type:
        problems.append((f"{key}.type", f"{name} es de tipo {target.type} en el tipo canónico"))
    pattern = None
    if "pattern" in raw:
        try:
            pattern = re.compile(raw["pattern"])
        except re.error as exc:
            problems.append((f"{key}.pattern", f"expresión regular inválida: {exc}"))
    if how == "xpath":
        for expr in sources:
            try:
                etree.XPath(str(expr), namespaces=source.namespaces or None)
            except etree.XPathSyntaxError as exc:
                problems.append((f"{key}.xpath" if not raw.get("concat") else f"{key}.concat",
                                 f"XPath inválida '{expr}': {exc}"))
    formats = raw.get("date_format", "%Y-%m-%d")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if "date_format" in raw and target.type != "date":
        problems.append((f"{key}.date_format", f"{name} no es una fecha"))
    multiply = None
    if "multiply" in raw:
        if target.type != "decimal":
            problems.append((f"{key}.multiply", f"{name} no es numérico (solo se multiplican decimales)"))
        try:
            multiply = Decimal(str(raw["multiply"]))
        except InvalidOperation:
            problems.append((f"{key}.multiply", f"'{raw['multiply']}' no es un número"))
    if "map_unknown" in raw and "map" not in raw:
        problems.append((f"{key}.map_unknown", "solo aplica con map"))
    if len(problems) > before:
        return None
    return FieldRule(
        name=name, target=target, how=how, sources=sources, concat="concat" in raw,
        separator=raw.get("separator", ""), value=raw.get("value"),
        required=target.required or bool(raw.get("required")), default=raw.get("default"), pattern=pattern,
        map=raw.get("map"), map_unknown=raw.get("map_unknown", "error"), date_formats=formats,
        multiply=multiply, trim=raw.get("trim", True),
    )


def _name_key(fmt: str) -> str:
    return {"csv": "column", "xlsx": "column", "xml": "xpath", "json": "path"}[fmt]


def find(name: str, directories: list[Path]) -> Path | None:
    """``<name>.toml`` in the first directory that has it."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
        return None
    for directory in directories:
        candidate = directory / f"{name}.toml"
        if candidate.is_file():
            return candidate
    return None
