"""What a worker process of the pipeline does (``gateway/workers.py``): check one archived file, nothing else.

A worker holds the document kinds (schemas, catalogs, certificates: built once, in ``setup``) and no store: it
reads the archived bytes, detects the kind and checks them exactly as ``gateway.checking`` does in the
gateway process. It answers None for what it must not do: a container (its parts are archived and recorded
by the gateway process), a kind that consults the store (an ERP export and its material master) or a kind
checked from the file itself; the gateway process checks those as before. A defect in a checker is a finding
(``checking.guarded``), never a dead worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gateway.workers import STATE

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.kinds.base import CheckResult

#: the kinds a worker checks: pure functions of the bytes and the configuration
POOL_KINDS = frozenset({"cfdi", "cove"})


def setup(settings: Settings) -> None:
    from gateway import limits, logs
    from gateway.kinds import KindRegistry

    logs.configure(settings.log_level, settings.log_format)
    limits.configure(limits.from_table(settings.limits))
    kinds = KindRegistry(settings.certificate_dirs, settings.sat_schema_dir, settings.sat_data_files,
                         mapping_dirs=settings.erp_mapping_dirs, store=None, settings=settings)
    from gateway.kinds.base import Warms, implements

    for name in POOL_KINDS:
        kind = kinds.get(name)  # schemas and certificates loaded now, once per worker
        if implements(kind, Warms):
            kind.warm()
    STATE["kinds"] = kinds


def check_in_worker(item: tuple[str, str, str, bool] | None) -> tuple[str | None, CheckResult] | None:
    """``(archived path, file name, declared kind, trusted)`` → the verdict, or None: the gateway checks it."""
    if item is None:
        return None
    from gateway.checking import check_with, guarded

    path, filename, declared_kind, trusted = item
    kinds = STATE["kinds"]
    data = Path(path).read_bytes()
    detected = declared_kind if declared_kind != "auto" else kinds.detect(data[:8192], filename)
    if detected not in POOL_KINDS:
        return None
    kind_name, result = guarded(lambda: check_with(kinds, data, filename, declared_kind, trusted))
    if result.parts is not None:
        return None
    return kind_name, result
