"""Anexo 22 appendices as versioned data files (``catalogs/*.json``), each with its valid-from date and source.

A file marked ``complete: false`` is a partial transcription: a code missing from it is reported as a
warning, never as an error, so an incomplete list can't reject a good pedimento.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Catalog:
    name: str
    title: str
    appendix: str
    valid_from: str
    source: str
    complete: bool
    values: dict[str, str]

    def __contains__(self, code: object) -> bool:
        return code in self.values


@cache
def catalog(name: str) -> Catalog:
    raw = json.loads(resources.files("gateway.kinds.pedimento").joinpath("catalogs", f"{name}.json")
                     .read_text(encoding="utf-8"))
    return Catalog(raw["catalog"], raw["title"], raw["appendix"], raw["valid_from"], raw["source"],
                   bool(raw["complete"]), dict(raw["values"]))


def numeric_code(value: str) -> str:
    """``"06"`` and ``"6"`` are the same unit or contribution key: catalogs keep numeric keys without zeros."""
    stripped = value.lstrip("0")
    return stripped or ("0" if value else value)
