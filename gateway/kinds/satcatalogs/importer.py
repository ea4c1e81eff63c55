"""``immex-gateway catalogs import FILE…``: read every file, check every catalog, then store the set at once.

Nothing is written until every file has been read and every catalog checked: one bad sheet refuses the whole
import, and the catalogs in force stay as they were. A catalog published before the one in force is refused
unless ``force`` (an operator re-importing an old file by mistake would bring back keys SAT has since ended).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.kinds.satcatalogs import imported
from gateway.kinds.satcatalogs.layouts import LAYOUTS, catalog_of
from gateway.kinds.satcatalogs.parse import ParsedCatalog, parse_catalog
from gateway.kinds.satcatalogs.workbook import CatalogFileError, Sheet, read


@dataclass
class Outcome:
    catalogs: list[ParsedCatalog]
    ignored: list[str]  # sheets of the files that hold no catalog the gateway reads
    path: Path


def read_files(paths: list[Path]) -> tuple[list[ParsedCatalog], list[str]]:
    """Every catalog the files hold, checked; the names of the sheets left aside."""
    found: dict[str, ParsedCatalog] = {}
    ignored: list[str] = []
    for path in paths:
        sheets = read(path)
        groups: dict[str, list[Sheet]] = {}
        for sheet in sheets:
            name = catalog_of(sheet.name)
            if name is None:
                ignored.append(f"{path.name}:{sheet.name}")
            else:
                groups.setdefault(name, []).append(sheet)
        if not groups:
            raise CatalogFileError(f"{path}: ninguna hoja es un catálogo del SAT que el gateway use (hojas / sheets: "
                                   f"{', '.join(s.name for s in sheets[:12]) or '—'}) / no SAT catalog sheet")
        for name, group in groups.items():
            if name in found:
                raise CatalogFileError(f"{path}: el catálogo {name} ya viene en {found[name].file} / "
                                       "the same catalog in two files")
            try:
                found[name] = parse_catalog(LAYOUTS[name], group, path.name)
            except CatalogFileError as exc:
                raise CatalogFileError(f"{path.name}, {exc}") from None
    return list(found.values()), ignored


def import_files(paths: list[Path], directory: Path, force: bool = False,
                 publish: Callable[[Path], None] | None = None) -> Outcome:
    """Read, check, compare with the set in force, then write the new set (``publish``: see ``shared``)."""
    catalogs, ignored = read_files(paths)
    in_force = imported.current(directory)
    if in_force is not None:
        older = [(c, in_force.meta[c.name]) for c in catalogs
                 if c.name in in_force.meta and c.published < in_force.meta[c.name].published]
        if older and not force:
            names = "; ".join(f"{c.name} {c.published.isoformat()} < {m.published.isoformat()} ({m.file})"
                              for c, m in older)
            raise CatalogFileError(f"catálogo más antiguo que el vigente / older than the catalog in force: {names}. "
                                   "Use --force para importarlo de todos modos / use --force to import it anyway")
    return Outcome(catalogs, ignored, imported.write(directory, catalogs, in_force, publish))
