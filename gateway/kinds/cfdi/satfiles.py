"""Where SAT's official XSD and XSLT files live on this machine, and how to load them offline.

The files are SAT's, shipped by the ``satcfdi`` wheel under ``www.sat.gob.mx/...``
(relative imports). A tree downloaded from SAT itself (absolute ``http://www.sat.gob.mx``
imports) works too: the resolver maps those URLs to the local tree and refuses
every other network location.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lxml import etree

from gateway.errors import ReferenceDataError

SAT_PREFIXES = ("http://www.sat.gob.mx/", "https://www.sat.gob.mx/")
CFD = "www.sat.gob.mx/sitio_internet/cfd/"


class SatFilesMissing(ReferenceDataError, RuntimeError):
    """The SAT schema tree cannot be found; start-up stops with this message."""


def default_root() -> Path:
    """The schema tree inside the installed satcfdi package (found without importing it)."""
    spec = importlib.util.find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise SatFilesMissing("satcfdi is not installed: it provides SAT's official XSD/XSLT files")
    root = Path(next(iter(spec.submodule_search_locations))) / "transform" / "schemas"
    if not (root / CFD / "4" / "cfdv40.xsd").is_file():
        raise SatFilesMissing(f"SAT schema tree not found under {root}")
    return root


class SatResolver(etree.Resolver):
    """Serve SAT URLs from the local tree; refuse the network; let overrides replace files."""

    def __init__(self, root: Path, overrides: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self.root = root
        self.overrides = overrides or {}

    def local_path(self, url: str) -> str | None:
        for prefix in SAT_PREFIXES:
            if url.startswith(prefix):
                return str(self.root / "www.sat.gob.mx" / url[len(prefix):])
        if url.startswith("file://"):
            return url[len("file://"):]
        if url.startswith(("http://", "https://", "ftp://")):
            raise OSError(f"network access refused while loading SAT files: {url}")
        return url

    def resolve(self, url, pubid, context):  # noqa: ANN001 - lxml's signature
        path = self.local_path(url)
        if path is None:
            return None
        resolved = str(Path(path).resolve())
        if resolved in self.overrides:
            return self.resolve_string(self.overrides[resolved], context, base_url=resolved)
        return self.resolve_filename(resolved, context)


def file_parser(root: Path, overrides: dict[str, bytes] | None = None) -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True)
    parser.resolvers.add(SatResolver(root, overrides))
    return parser


def cfd_path(root: Path, relative: str) -> Path:
    return root / CFD / relative
