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
    found: list[str] = []
    inside = False
    for event, element in etree.iterparse(str(path), events=("start", "end"), **parser):
        if element.tag == f"{_XS}simpleType":
            if event == "start":
                inside = element.get("name") == "c_FraccionArancelaria"
            elif inside:
                return frozenset(found)
            else:
                _drop(element)
        elif inside and event == "end" and element.tag == f"{_XS}enumeration":
            found.append(element.get("value"))
            _drop(element)  # each code's annotation is read and let go: the tree never holds the catalog
    return frozenset()


def _drop(element: etree._Element) -> None:
    element.clear(keep_tail=False)
    while element.getprevious() is not None:
        del element.getparent()[0]


@cache
def fracciones() -> frozenset[str]:
    """The 8-digit fracciones that have at least one NICO in the catalog."""
    return frozenset(code[:8] for code in codes() if len(code) == 10)
