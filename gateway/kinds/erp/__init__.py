"""ERP exports through declarative mappings (``mappings/*.toml``): materials, BOMs, receipts and shipments.

A source declares ``kind = "erp:<mapping>"``; the export is read through the mapping (``export.py``) and split
into chunks of canonical rows, each a document of kind ``erp.materials``, ``erp.bom``, ``erp.receipts`` or
``erp.shipments`` (``chunk.py``). See docs/erp.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.kinds.erp.chunk import ChunkKind
from gateway.kinds.erp.export import ExportKind
from gateway.kinds.erp.mapping import MappingError, find, load
from gateway.kinds.erp.targets import TARGETS

#: the project's own mappings (a source checkout or editable install); configured directories come first
BUILTIN_MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"


def mapping_dirs(configured: list[Path] | None) -> list[Path]:
    return [*(configured or []), BUILTIN_MAPPINGS]


def export_kind(kind_name: str, directories: list[Path], store: Any = None,
                tigie: dict[str, Any] | None = None) -> ExportKind:
    """The kind for ``erp:<mapping>``; a missing or broken mapping gives a kind whose check says why (ERP-MAPPING).

    ``store`` holds the material master a new master is compared with; ``tigie`` is the configured tariff table
    with validity dates (``validation.tigie_fracciones``), else the SAT catalog's fracciones are used.
    """
    name = kind_name.split(":", 1)[1]
    path = find(name, directories)
    if path is None:
        searched = ", ".join(str(d) for d in directories)
        return ExportKind(kind_name, None, MappingError([("", f"no existe {name}.toml en {searched}")]))
    try:
        return ExportKind(kind_name, load(path, name), store=store, tigie=tigie)
    except MappingError as problem:
        return ExportKind(kind_name, None, problem)


def chunk_kind(target: str, store: Any = None) -> ChunkKind:
    return ChunkKind(target, store)


__all__ = ["BUILTIN_MAPPINGS", "TARGETS", "ChunkKind", "ExportKind", "chunk_kind", "export_kind", "mapping_dirs"]
