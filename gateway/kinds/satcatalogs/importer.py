"""``immex-gateway catalogs import FILE…``: read every file, check every catalog, then store the set at once.

Nothing is written until every file has been read and every catalog checked: one bad sheet refuses the whole
import, and the catalogs in force stay as they were. A catalog published before the one in force is refused
unless ``force`` (an operator re-importing an old file by mistake would bring back keys SAT has since ended).

The same files may carry Anexo 22 appendices (``appendices``): a ``.json`` in the gateway's own form, a
``.csv`` of one appendix, or a workbook sheet named or titled as one ("Apéndice 2 Claves de pedimento"). An
appendix older (by ``valid_from``, then publication date) than the one in force, imported or the package's, is
refused the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.kinds.satcatalogs import imported
from gateway.kinds.satcatalogs.appendices import KNOWN, Appendix, from_json, from_sheet, layout_of_sheet, read_csv
from gateway.kinds.satcatalogs.layouts import LAYOUTS, catalog_of
from gateway.kinds.satcatalogs.parse import ParsedCatalog, parse_catalog
from gateway.kinds.satcatalogs.workbook import CatalogFileError, Sheet, read


@dataclass
class Outcome:
    catalogs: list[ParsedCatalog]
    ignored: list[str]  # sheets of the files that hold no catalog the gateway reads
    path: Path
    appendices: list[Appendix] = field(default_factory=list)


@dataclass
class Found:
    catalogs: dict[str, ParsedCatalog] = field(default_factory=dict)
    appendices: dict[str, Appendix] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def read_files(paths: list[Path]) -> tuple[list[ParsedCatalog], list[str]]:
    """Every CFDI catalog the files hold, checked; the names of the sheets left aside."""
    found = read_sources(paths)
    return list(found.catalogs.values()), found.ignored


def read_sources(paths: list[Path]) -> Found:
    """Every catalog and appendix the files hold, checked."""
    found = Found()
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".json":
            _add_appendix(found, from_json(path), path)
        elif suffix == ".csv":
            _add_appendix(found, _csv_appendix(path), path)
        else:
            _read_workbook(path, found)
    return found


def _csv_appendix(path: Path) -> Appendix:
    sheet = read_csv(path)
    layout, number = layout_of_sheet(sheet)
    if layout is None:
        what = f"el apéndice {number} no lo usa el gateway" if number else "no se sabe qué apéndice es (nómbrelo " \
            "'Apéndice N …' en el nombre del archivo o en una fila de título)"
        raise CatalogFileError(f"{path}: {what} / unknown appendix (conocidos / known: {KNOWN})")
    try:
        return from_sheet(layout, sheet, path.name, "CSV")
    except CatalogFileError as exc:
        raise CatalogFileError(f"{path.name}, {exc}") from None


def _read_workbook(path: Path, found: Found) -> None:
    sheets = read(path)
    groups: dict[str, list[Sheet]] = {}
    appendices = 0
    for sheet in sheets:
        name = catalog_of(sheet.name)
        if name is not None:
            groups.setdefault(name, []).append(sheet)
            continue
        layout, number = layout_of_sheet(sheet)
        if layout is None:
            found.ignored.append(f"{path.name}:{sheet.name}" + (f" (apéndice {number})" if number else ""))
            continue
        try:
            appendix = from_sheet(layout, sheet, path.name, f"hoja {sheet.name}")
        except CatalogFileError as exc:
            raise CatalogFileError(f"{path.name}, {exc}") from None
        _add_appendix(found, appendix, path)
        appendices += 1
    if not groups and not appendices:
        raise CatalogFileError(f"{path}: ninguna hoja es un catálogo del SAT ni un apéndice del Anexo 22 que el "
                               f"gateway use (hojas / sheets: {', '.join(s.name for s in sheets[:12]) or '—'}) / "
                               "no SAT catalog or Anexo 22 appendix sheet")
    for name, group in groups.items():
        if name in found.catalogs:
            raise CatalogFileError(f"{path}: el catálogo {name} ya viene en {found.catalogs[name].file} / "
                                   "the same catalog in two files")
        try:
            found.catalogs[name] = parse_catalog(LAYOUTS[name], group, path.name)
        except CatalogFileError as exc:
            raise CatalogFileError(f"{path.name}, {exc}") from None


def _add_appendix(found: Found, appendix: Appendix, path: Path) -> None:
    if appendix.name in found.appendices:
        raise CatalogFileError(f"{path}: el apéndice {appendix.appendix} ({appendix.name}) ya viene en "
                               f"{found.appendices[appendix.name].source} / the same appendix twice")
    found.appendices[appendix.name] = appendix


def import_files(paths: list[Path], directory: Path, force: bool = False,
                 publish: Callable[[Path], None] | None = None) -> Outcome:
    """Read, check, compare with the set in force, then write the new set (``publish``: see ``shared``)."""
    found = read_sources(paths)
    catalogs, appendices = list(found.catalogs.values()), list(found.appendices.values())
    in_force = imported.current(directory)
    older = [f"{c.name} {c.published.isoformat()} < {m.published.isoformat()} ({m.file})"
             for c, m in _in_force_meta(catalogs, in_force) if c.published < m.published]
    older += [why for why in (_older_appendix(a, in_force) for a in appendices) if why]
    if older and not force:
        raise CatalogFileError(f"catálogo más antiguo que el vigente / older than the catalog in force: "
                               f"{'; '.join(older)}. Use --force para importarlo de todos modos / use --force to "
                               "import it anyway")
    path = imported.write(directory, catalogs, in_force, publish, appendices)
    return Outcome(catalogs, found.ignored, path, appendices)


def _in_force_meta(catalogs: list[ParsedCatalog], in_force: imported.ImportedSet | None
                   ) -> list[tuple[ParsedCatalog, imported.Meta]]:
    return [(c, in_force.meta[c.name]) for c in catalogs if c.name in in_force.meta] if in_force is not None else []


def _older_appendix(new: Appendix, in_force: imported.ImportedSet | None) -> str:
    """Why ``new`` is older than the appendix in force (imported, else the package's); "" when it is not."""
    from gateway.kinds.pedimento.catalogs import shipped

    current = in_force.appendices.get(new.name) if in_force is not None else None
    if current is not None:
        old, _ = current
        if (new.valid_from, new.published) < (old.valid_from, old.published):
            return f"{new.name} (apéndice {new.appendix}) vigente desde {new.valid_from.isoformat()}, publicado " \
                   f"{new.published.isoformat()} < {old.valid_from.isoformat()}, {old.published.isoformat()} " \
                   f"({old.file})"
        return ""
    package = shipped(new.name)
    if new.valid_from.isoformat() < package.valid_from:
        return f"{new.name} (apéndice {new.appendix}) vigente desde {new.valid_from.isoformat()} < " \
               f"{package.valid_from} (paquete del gateway / the gateway's package)"
    return ""
