"""The tariff (TIGIE fracción + NICO) the gateway has: SAT's c_FraccionArancelaria of Comercio Exterior.

satcfdi ships SAT's catComExt.xsd; its c_FraccionArancelaria lists the 10-digit fracción+NICO codes in
force (and the 8-digit ones of the tariff before the NICO). It is read once, on first use.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from gateway.kinds.cfdi.satfiles import cfd_path, default_root

_XS = "{http://www.w3.org/2001/XMLSchema}"


@cache
def codes() -> frozenset[str]:
    """Every code of c_FraccionArancelaria (empty when the catalog file is missing)."""
    path = cfd_path(default_root(), "catalogos") / "ComExt" / "catComExt.xsd"
    if not path.is_file():
        return frozenset()
    parser = dict(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True)
    for _, element in etree.iterparse(str(path), tag=f"{_XS}simpleType", **parser):
        if element.get("name") == "c_FraccionArancelaria":
            return frozenset(e.get("value") for e in element.iter(f"{_XS}enumeration"))
        element.clear()
    return frozenset()


@cache
def fracciones() -> frozenset[str]:
    """The 8-digit fracciones that have at least one NICO in the catalog."""
    return frozenset(code[:8] for code in codes() if len(code) == 10)
