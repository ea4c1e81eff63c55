"""Anexo 22 appendices as versioned data files (``catalogs/*.json``), each with its valid-from date and source.

A file marked ``complete: false`` is a partial transcription: a code missing from it is reported as a
warning, never as an error, so an incomplete list can't reject a good pedimento.

An appendix imported with ``immex-gateway catalogs import`` (kept in the imported set of ``[validation]
catalogs_dir``, shared through the store) replaces the package's from then on: ``in_force(directory)`` gives
every appendix name its catalog, the imported one where there is one. The pedimento rules call it once per
pedimento and then look names up in a plain dict; the set is looked at again as ``imported.current`` does (a
clock read and a dict lookup between looks), and the merged dict is built once per installed set.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from gateway.kinds.satcatalogs import imported
from gateway.kinds.satcatalogs.appendices import Appendix


@dataclass(frozen=True)
class Catalog:
    name: str
    title: str
    appendix: str
    valid_from: str
    source: str
    complete: bool
    values: dict[str, str]
    #: the imported file it came from (None: the gateway's package), its publication date and the import's time
    file: str | None = None
    published: str | None = None
    imported_at: str | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.values


@cache
def shipped(name: str) -> Catalog:
    """The appendix as the gateway's package carries it."""
    raw = json.loads(resources.files("gateway.kinds.pedimento").joinpath("catalogs", f"{name}.json")
                     .read_text(encoding="utf-8"))
    return Catalog(raw["catalog"], raw["title"], raw["appendix"], raw["valid_from"], raw["source"],
                   bool(raw["complete"]), dict(raw["values"]))


def package_folder() -> Path:
    return Path(str(resources.files("gateway.kinds.pedimento").joinpath("catalogs")))


@cache
def _package() -> dict[str, Catalog]:
    folder = resources.files("gateway.kinds.pedimento").joinpath("catalogs")
    names = sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json"))
    return {name: shipped(name) for name in names}


_views: dict[Path, tuple[imported.ImportedSet, dict[str, Catalog]]] = {}
_lock = threading.Lock()


def in_force(directory: Path | None = None) -> dict[str, Catalog]:
    """Every appendix by name: the one imported in ``directory`` where there is one, else the package's.

    The dict is shared and must not be changed; it is the same object until another set is installed."""
    found = imported.current(directory)
    if found is None or not found.appendices:
        return _package()
    assert directory is not None
    view = _views.get(directory)
    if view is None or view[0] is not found:
        with _lock:
            merged = dict(_package())
            merged.update({name: _from_import(appendix, when) for name, (appendix, when) in found.appendices.items()})
            view = _views[directory] = (found, merged)
    return view[1]


def catalog(name: str, directory: Path | None = None) -> Catalog:
    """One appendix in force (see ``in_force``)."""
    return in_force(directory)[name]


def _from_import(appendix: Appendix, imported_at: str) -> Catalog:
    return Catalog(appendix.name, appendix.title, appendix.appendix, appendix.valid_from.isoformat(),
                   appendix.source, appendix.complete, appendix.values, appendix.file, appendix.published.isoformat(),
                   imported_at)


def describe(directory: Path | None, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per appendix, what ``catalogs info`` shows: source (package or imported file), valid from, publication
    date, rows, age in days (None for the package's, which carries no publication date)."""
    today = today or dt.date.today()
    out = []
    for name, cat in sorted(in_force(directory).items()):
        entry: dict[str, Any] = {"catalog": f"anexo22/{name}", "appendix": cat.appendix, "title": cat.title,
                                 "valid_from": cat.valid_from, "complete": cat.complete, "rows": len(cat.values)}
        if cat.file is not None and cat.published is not None:
            entry.update(source=f"importado / imported: {cat.file}", imported=True,
                         version=f"desde {cat.valid_from}", published=cat.published,
                         age_days=(today - dt.date.fromisoformat(cat.published)).days, imported_at=cat.imported_at)
        else:
            entry.update(source=f"paquete del gateway / package: catalogs/{name}.json", imported=False,
                         version=f"desde {cat.valid_from}", published=None, age_days=None)
        out.append(entry)
    return out


def numeric_code(value: str) -> str:
    """``"06"`` and ``"6"`` are the same unit or contribution key: catalogs keep numeric keys without zeros."""
    stripped = value.lstrip("0")
    return stripped or ("0" if value else value)
