"""Document kinds and their detection. Each kind lives in its own package with the same verbs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.kinds.base import CheckResult, DocumentKind, HasInternalFormat, MakesParts, Part, implements

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.kinds.cfdi.satdata import SatData
    from gateway.store.base import CoreStore

_HEAD = 8192


class KindRegistry:
    """The kinds this process knows, built lazily from settings (a kind may compile schemas)."""

    def __init__(self, certificate_dirs: list[Path] | None = None, sat_root: Path | None = None,
                 sat_data_files: dict[str, Path] | None = None, mapping_dirs: list[Path] | None = None,
                 store: CoreStore | None = None, settings: Settings | None = None) -> None:
        self._certificate_dirs = certificate_dirs or []
        self._sat_root = sat_root
        self._sat_data_files = sat_data_files or {}
        self._mapping_dirs = mapping_dirs or []
        self.store = store  # for kinds that consult earlier documents (the ERP material master); None standalone
        self._settings = settings  # company RFC, IMMEX program, tolerances, staging dir (pedimento kinds)
        self._kinds: dict[str, DocumentKind] = {}
        from gateway import limits
        from gateway.kinds.archive.limits import ArchiveLimits

        # the settings' own [limits] (checked when loaded), else what this process was configured with
        configured = limits.from_table(settings.limits) if settings else limits.current()
        self.archive_limits = ArchiveLimits.from_limits(configured)
        self._sat_data: SatData | None = None

    def sat_data(self) -> SatData:
        """The SAT-side lists (``[validation]`` files), read once and shared by the CFDI and ERP kinds."""
        if self._sat_data is None:
            from gateway.kinds.cfdi.satdata import SatData

            files = self._sat_data_files
            self._sat_data = SatData.from_files(files.get("rfc"), files.get("lco"), files.get("fix"),
                                                files.get("tigie"))
        return self._sat_data

    def get(self, name: str) -> DocumentKind | None:
        if name.startswith("erp:"):  # built from mappings/<name>.toml on each use: an edited mapping applies at once
            from gateway.kinds.erp import export_kind, mapping_dirs

            return export_kind(name, mapping_dirs(self._mapping_dirs), store=self.store,
                               tigie=self.sat_data().fracciones if "tigie" in self._sat_data_files else None)
        if name not in self._kinds:
            factory = _FACTORIES.get(name)
            if factory is None:
                return None
            self._kinds[name] = factory(self)
        return self._kinds[name]

    def names(self) -> list[str]:
        return list(_FACTORIES)

    def makes_parts(self, kind_name: str | None) -> bool:
        """Whether this container kind writes its parts in a format of its own (ERP chunks, M-file blocks, Data
        Stage pedimento parts), so that those parts may be read back in it; a ZIP's entries are the sender's."""
        kind = self.get(kind_name) if kind_name else None
        return implements(kind, MakesParts) and kind.makes_parts

    def is_internal(self, kind_name: str, data: bytes) -> bool:
        """Whether these bytes are in a format only the gateway makes: an internal kind (an ERP chunk), or a
        kind's own part format (a Data Stage pedimento part checked by ``pedimento``)."""
        if kind_name in INTERNAL_KINDS:
            return True
        kind = self.get(kind_name)
        return implements(kind, HasInternalFormat) and kind.internal_format(
            data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n"))

    def detect(self, data: bytes, filename: str) -> str | None:
        """The first kind that recognises the bytes (an internal kind too: the caller refuses it from outside)."""
        head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
        for name in _FACTORIES:
            kind = self.get(name)
            if kind is not None and kind.sniff(head, filename):
                return name
        return None


def _cfdi(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.cfdi.kind import CfdiKind

    settings = registry._settings
    return CfdiKind(registry._sat_root, registry._certificate_dirs, satdata=registry.sat_data(),
                    catalogs_dir=settings.catalogs_dir if settings is not None else None)


def _erp_chunk(target: str) -> Callable[[KindRegistry], DocumentKind]:
    def factory(registry: KindRegistry) -> DocumentKind:
        from gateway.kinds.erp import chunk_kind

        return chunk_kind(target, registry.store)

    return factory


def _cove(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.cove.kind import CoveKind

    return CoveKind()


def _pedimento(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.pedimento.kind import PedimentoKind
    from gateway.kinds.pedimento.settings import rule_context, staging_dir

    return PedimentoKind(rule_context(registry._settings), staging_dir(registry._settings))


def _mfile(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.pedimento.kind import MFileKind
    from gateway.kinds.pedimento.settings import rule_context

    return MFileKind(rule_context(registry._settings))


def _datastage(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.pedimento.kind import DataStageKind
    from gateway.kinds.pedimento.settings import staging_dir

    return DataStageKind(staging_dir(registry._settings))


def _zip(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.archive.kind import ZipKind

    return ZipKind(registry.detect, registry.archive_limits)


def _sat_metadata(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.satmeta.kind import SatMetadataKind

    return SatMetadataKind()


def _cancellation(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.satmeta.kind import CancellationKind

    return CancellationKind()


# containers before the single documents they hold (an M file also starts with "500|"; a Data Stage is a ZIP)
_FACTORIES = {"cfdi": _cfdi, "cove": _cove, "mfile": _mfile, "datastage": _datastage, "zip": _zip,
              "pedimento": _pedimento, "cfdi.metadata": _sat_metadata, "cfdi.cancellation": _cancellation}
#: kinds of the parts the gateway carves out of containers: never taken from a source or ``validate``
INTERNAL_KINDS = frozenset(("erp.materials", "erp.bom", "erp.receipts", "erp.shipments"))
_FACTORIES.update({t: _erp_chunk(t) for t in sorted(INTERNAL_KINDS)})

__all__ = ["INTERNAL_KINDS", "CheckResult", "DocumentKind", "KindRegistry", "Part"]
