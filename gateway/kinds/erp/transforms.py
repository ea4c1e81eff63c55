"""Declarative value transforms: how a mapping cleans a value before it is checked (``transform = [...]``).

ERPs write the same code differently (SAP pads a MATNR to 18 digits, a WMS does not; one export says ``ST``,
the other ``PC``): a transform chain makes them meet before any check runs, so that a master and the exports
that name its parts can be reconciled. Each step is compiled once into a plain function on text; a step never
fails except a lookup without ``unknown = "keep"``, which raises ``TransformProblem`` (a row error).

Steps (in the order written): ``"trim"``, ``"upper"``, ``"lower"``, ``"strip_zeros"``, ``{pad_zeros = N}``,
``{regex = "…", replace = "…"}``, ``{substring = [start, length]}`` (1-based), ``{lookup = "name" | {…},
unknown = "error" | "keep" | "blank"}``, ``{default = "…"}`` (when the value is blank at that point).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Step = Callable[[str], str]

#: steps written as a bare string
SIMPLE = ("trim", "upper", "lower", "strip_zeros")
#: the key that names a step written as a table; the other keys are its options
OPERATIONS = ("pad_zeros", "regex", "substring", "lookup", "default")
_OPTIONS = {"regex": {"replace"}, "lookup": {"unknown"}}


class TransformProblem(ValueError):
    """A value a lookup table does not know (the message names the value and the table)."""


def compile_steps(key: str, raw: list[Any], lookups: dict[str, dict[str, str]],
                  problems: list[tuple[str, str]]) -> tuple[Step, ...]:
    """The steps of ``raw`` (a field's ``transform`` list); every mistake is appended to ``problems`` by key."""
    steps = []
    for index, item in enumerate(raw):
        where = f"{key}.transform[{index}]"
        step = _compile(where, item, lookups, problems)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def apply(steps: tuple[Step, ...], text: str) -> str:
    for step in steps:
        text = step(text)
    return text


def chain(steps: tuple[Step, ...]) -> Step | None:
    """The steps as one function (None when there are none): one call per value on the hot path."""
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda text: second(first(text))
    return lambda text: apply(steps, text)


def _compile(where: str, item: Any, lookups: dict[str, dict[str, str]],
             problems: list[tuple[str, str]]) -> Step | None:
    if isinstance(item, str):
        return _SIMPLE_STEPS[item]
    ops = [k for k in OPERATIONS if k in item]
    if len(ops) != 1:
        problems.append((where, f"indique exactamente una operación ({', '.join(OPERATIONS)}); hay: "
                                f"{', '.join(ops) or 'ninguna'}"))
        return None
    op = ops[0]
    extra = set(item) - {op} - _OPTIONS.get(op, set())
    if extra:
        problems.append((where, f"{', '.join(sorted(extra))} no aplica a {op}"))
        return None
    value = item[op]
    if op == "pad_zeros":
        width = int(value)
        return lambda text: text.rjust(width, "0") if text else text
    if op == "regex":
        try:
            pattern = re.compile(value)
        except re.error as exc:
            problems.append((f"{where}.regex", f"expresión regular inválida: {exc}"))
            return None
        replacement = item.get("replace", "")
        try:
            pattern.sub(replacement, "")  # a bad group reference (\3 with two groups) fails here, not on row 40,000
        except (re.error, IndexError) as exc:
            problems.append((f"{where}.replace", f"reemplazo inválido: {exc}"))
            return None
        return lambda text: pattern.sub(replacement, text)
    if op == "substring":
        start = value[0] - 1
        end = start + value[1] if len(value) > 1 else None
        return lambda text: text[start:end]
    if op == "default":
        return lambda text: text if text.strip() else value
    return _lookup(where, value, item.get("unknown", "error"), lookups, problems)


def _lookup(where: str, value: str | dict[str, str], unknown: str, lookups: dict[str, dict[str, str]],
            problems: list[tuple[str, str]]) -> Step | None:
    if isinstance(value, str):
        if value not in lookups:
            known = ", ".join(sorted(lookups)) or "ninguna"
            problems.append((f"{where}.lookup", f"no existe la tabla '{value}' en [lookups] (tablas: {known})"))
            return None
        table, name = lookups[value], f"la tabla '{value}'"
    else:
        table, name = value, "la tabla del mapeo"

    def look(text: str) -> str:
        found = table.get(text)
        if found is not None:
            return found
        if unknown == "keep" or text == "":
            return text
        if unknown == "blank":
            return ""
        shown = ", ".join(list(table)[:12])
        raise TransformProblem(f"'{text}' no está en {name} ({shown})")

    return look


def _strip_zeros(text: str) -> str:
    """SAP's MATNR ``000000000000123456`` → ``123456``; an all-zero code stays ``0``; letters are left alone."""
    stripped = text.lstrip("0")
    return stripped if stripped or not text else "0"


_SIMPLE_STEPS: dict[str, Step] = {"trim": str.strip, "upper": str.upper, "lower": str.lower,
                                  "strip_zeros": _strip_zeros}
