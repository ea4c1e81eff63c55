"""Document kinds and their detection. Each kind lives in its own package with the same verbs."""

from __future__ import annotations

from pathlib import Path

from gateway.kinds.base import CheckResult, DocumentKind, Part

_HEAD = 8192


class KindRegistry:
    """The kinds this process knows, built lazily from settings (a kind may compile schemas)."""

    def __init__(self, certificate_dirs: list[Path] | None = None, sat_root: Path | None = None,
                 sat_data_files: dict[str, Path] | None = None) -> None:
        self._certificate_dirs = certificate_dirs or []
        self._sat_root = sat_root
        self._sat_data_files = sat_data_files or {}
        self._kinds: dict[str, DocumentKind] = {}

    def get(self, name: str) -> DocumentKind | None:
        if name not in self._kinds:
            factory = _FACTORIES.get(name)
            if factory is None:
                return None
            self._kinds[name] = factory(self)
        return self._kinds[name]

    def names(self) -> list[str]:
        return list(_FACTORIES)

    def detect(self, data: bytes, filename: str) -> str | None:
        head = data[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
        for name in _FACTORIES:
            kind = self.get(name)
            if kind is not None and kind.sniff(head, filename):
                return name
        return None


def _cfdi(registry: KindRegistry) -> DocumentKind:
    from gateway.kinds.cfdi.kind import CfdiKind
    from gateway.kinds.cfdi.satdata import SatData

    files = registry._sat_data_files
    satdata = SatData.from_files(files.get("rfc"), files.get("lco"), files.get("fix"), files.get("tigie"))
    return CfdiKind(registry._sat_root, registry._certificate_dirs, satdata=satdata)


_FACTORIES = {"cfdi": _cfdi}

__all__ = ["CheckResult", "DocumentKind", "KindRegistry", "Part"]
