"""XSD validation of CFDI 4.0 with SAT's official schemas, at thousands of documents per second.

libxml2 checks an enumeration facet by comparing the value with every allowed value in
turn; SAT's catalogs (c_CodigoPostal 96k values, c_ClaveProdServ 53k, c_FraccionArancelaria
26k) make that about 10 ms per document. So, once per process, the catalog types with
many values are compiled without their enumeration facets, their values kept in Python
sets, and every attribute declared with such a type is checked against its set after
libxml2 has validated the rest. The verdict is the same as validating with the full
schemas (the test suite checks this on every sample), at a fraction of the cost.

Catalogs an operator imported from SAT's files (``gateway.kinds.satcatalogs``) replace the schemas' own
enumeration of the same catalog, whatever its size: ``build(…, replacements=…)`` lifts those types too and
checks them against the imported keys, so a key SAT added after the wheel's edition is accepted everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from lxml import etree

from gateway.findings import Finding, error, info
from gateway.kinds.cfdi import liftcache
from gateway.kinds.cfdi.satfiles import cfd_path, file_parser
from gateway.xmlsafe import children_by_tag, xpath_of

XS = "http://www.w3.org/2001/XMLSchema"
CFDI4 = "http://www.sat.gob.mx/cfd/4"

#: The comprobante and every complement whose schema SAT publishes (all ship in the satcfdi wheel), by
#: namespace. Where SAT kept one namespace for two versions (TFD 1.0/1.1, INE 1.0/1.1) the table names the
#: one CFDI 4.0 uses; ``tests/test_cfdi_complements.py`` checks no schema of the wheel is missing. A complement
#: of another namespace (a company's own, or one SAT publishes later) is set aside with an info finding.
KNOWN_SCHEMAS: dict[str, str] = {
    CFDI4: "4/cfdv40.xsd",
    "http://www.sat.gob.mx/TimbreFiscalDigital": "TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd",
    "http://www.sat.gob.mx/ComercioExterior20": "ComercioExterior20/ComercioExterior20.xsd",
    "http://www.sat.gob.mx/ComercioExterior11": "ComercioExterior11/ComercioExterior11.xsd",
    "http://www.sat.gob.mx/ComercioExterior": "ComercioExterior/ComercioExterior10.xsd",
    "http://www.sat.gob.mx/Pagos20": "Pagos/Pagos20.xsd",
    "http://www.sat.gob.mx/Pagos": "Pagos/Pagos10.xsd",
    "http://www.sat.gob.mx/CartaPorte": "CartaPorte/CartaPorte.xsd",
    "http://www.sat.gob.mx/CartaPorte20": "CartaPorte/CartaPorte20.xsd",
    "http://www.sat.gob.mx/CartaPorte30": "CartaPorte/CartaPorte30.xsd",
    "http://www.sat.gob.mx/CartaPorte31": "CartaPorte/CartaPorte31.xsd",
    "http://www.sat.gob.mx/implocal": "implocal/implocal.xsd",
    "http://www.sat.gob.mx/leyendasFiscales": "leyendasFiscales/leyendasFisc.xsd",
    "http://www.sat.gob.mx/nomina12": "nomina/nomina12.xsd",
    "http://www.sat.gob.mx/nomina": "nomina/nomina11.xsd",
    "http://www.sat.gob.mx/acreditamiento": "acreditamiento/AcreditamientoIEPS10.xsd",
    "http://www.sat.gob.mx/aerolineas": "aerolineas/aerolineas.xsd",
    "http://www.sat.gob.mx/arteantiguedades": "arteantiguedades/obrasarteantiguedades.xsd",
    "http://www.sat.gob.mx/certificadodestruccion": "certificadodestruccion/certificadodedestruccion.xsd",
    "http://www.sat.gob.mx/registrofiscal": "cfdiregistrofiscal/cfdiregistrofiscal.xsd",
    "http://www.sat.gob.mx/consumodecombustibles": "consumodecombustibles/consumodecombustibles.xsd",
    "http://www.sat.gob.mx/ConsumoDeCombustibles11": "consumodecombustibles/consumodeCombustibles11.xsd",
    "http://www.sat.gob.mx/detallista": "detallista/detallista.xsd",
    "http://www.sat.gob.mx/divisas": "divisas/divisas.xsd",
    "http://www.sat.gob.mx/donat": "donat/donat11.xsd",
    "http://www.sat.gob.mx/ecb": "ecb/ecb.xsd",
    "http://www.sat.gob.mx/ecc": "ecc/ecc.xsd",
    "http://www.sat.gob.mx/EstadoDeCuentaCombustible": "EstadoDeCuentaCombustible/ecc11.xsd",
    "http://www.sat.gob.mx/EstadoDeCuentaCombustible12": "EstadoDeCuentaCombustible/ecc12.xsd",
    "http://www.sat.gob.mx/GastosHidrocarburos10": "GastosHidrocarburos10/GastosHidrocarburos10.xsd",
    "http://www.sat.gob.mx/IngresosHidrocarburos10": "IngresosHidrocarburos10/IngresosHidrocarburos.xsd",
    "http://www.sat.gob.mx/hidrocarburospetroliferos": "hidrocarburospetroliferos.xsd",
    "http://www.sat.gob.mx/iedu": "iedu/iedu.xsd",
    "http://www.sat.gob.mx/ine": "ine/ine11.xsd",
    "http://www.sat.gob.mx/notariospublicos": "notariospublicos/notariospublicos.xsd",
    "http://www.sat.gob.mx/pagoenespecie": "pagoenespecie/pagoenespecie.xsd",
    "http://www.sat.gob.mx/pfic": "pfic/pfic.xsd",
    "http://www.sat.gob.mx/psgecfd": "psgecfd/psgecfd.xsd",
    "http://www.sat.gob.mx/renovacionysustitucionvehiculos":
        "renovacionysustitucionvehiculos/renovacionysustitucionvehiculos.xsd",
    "http://www.sat.gob.mx/servicioparcialconstruccion": "servicioparcialconstruccion/servicioparcialconstruccion.xsd",
    "http://www.sat.gob.mx/spei": "spei/spei.xsd",
    "http://www.sat.gob.mx/terceros": "terceros/terceros11.xsd",
    "http://www.sat.gob.mx/TuristaPasajeroExtranjero": "TuristaPasajeroExtranjero/TuristaPasajeroExtranjero.xsd",
    "http://www.sat.gob.mx/valesdedespensa": "valesdedespensa/valesdedespensa.xsd",
    "http://www.sat.gob.mx/vehiculousado": "vehiculousado/vehiculousado.xsd",
    "http://www.sat.gob.mx/ventavehiculos": "ventavehiculos/ventavehiculos11.xsd",
}

#: The namespaces compiled at start-up: the comprobante and the complements an IMMEX gateway sees every day. The
#: rest of ``KNOWN_SCHEMAS`` compile together on the first document that carries one of them: libxml2 validates
#: every document some 8 % slower against all 46 namespaces than against these (``bench_cfdi_instructions.py``).
EVERYDAY: frozenset[str] = frozenset({
    CFDI4, "http://www.sat.gob.mx/TimbreFiscalDigital", "http://www.sat.gob.mx/ComercioExterior20",
    "http://www.sat.gob.mx/ComercioExterior11", "http://www.sat.gob.mx/Pagos20", "http://www.sat.gob.mx/CartaPorte20",
    "http://www.sat.gob.mx/CartaPorte30", "http://www.sat.gob.mx/CartaPorte31", "http://www.sat.gob.mx/implocal",
    "http://www.sat.gob.mx/leyendasFiscales", "http://www.sat.gob.mx/nomina12",
})

#: Enumerations longer than this are checked in Python rather than by libxml2.
ENUM_THRESHOLD = 100
_ADDENDA = f"{{{CFDI4}}}Addenda"
_COMPLEMENTO = f"{{{CFDI4}}}Complemento"
_CONCEPTOS = f"{{{CFDI4}}}Conceptos"
_COMPLEMENTO_CONCEPTO = f"{{{CFDI4}}}ComplementoConcepto"
_MESSAGE_LIMIT = 400
_EVERYDAY, _RARE, _UNKNOWN = object(), object(), object()  # what ``CfdiSchema._complement_kind`` says of a tag
_KINDS_KEPT = 1024


@dataclass(frozen=True)
class _CatalogCheck:
    attribute: str
    type_name: str
    values: frozenset[str]


#: The cfdi-namespace element paths a ``Layout`` gives; a schema lifting a catalog elsewhere disables the layout.
LAYOUT_PATHS = frozenset({
    ("Comprobante",), ("Comprobante", "Receptor"), ("Comprobante", "Conceptos", "Concepto"),
    ("Comprobante", "Conceptos", "Concepto", "Parte"),
})


@dataclass(frozen=True)
class Layout:
    """Where a CFDI's parts are, as the caller's own walk of the tree found them (``CfdiKind`` builds it from ``Doc``).

    With it, ``CfdiSchema.validate`` neither walks the root's children again to find what to leave out, nor,
    when libxml2 finds the structure valid, walks the whole tree for the lifted catalogs: a valid tree has
    each element where the schema puts it, so the catalog attributes are on these nodes and in these
    complements. Any catalog miss, or a structure libxml2 rejects, falls back to the full walk.
    """

    addenda: list[etree._Element]  # the root's cfdi:Addenda children
    complements: list[etree._Element]  # the element children of every cfdi:Complemento, in document order
    #: (path within the cfdi namespace, element): the root, its Receptor, every Concepto and every Parte
    cfdi_nodes: list[tuple[tuple[str, ...], etree._Element]]
    concept_complements: list[etree._Element]  # the element children of every cfdi:ComplementoConcepto
    #: element -> its children grouped by Clark tag (``children_by_tag``), shared with the caller's later reads
    groups: dict[etree._Element, dict[str, list[etree._Element]]] = field(default_factory=dict)


@dataclass
class _Trie:
    """The catalog paths of one complement from its root: the checks of this element, then its children's tries."""

    checks: list[_CatalogCheck] = field(default_factory=list)
    children: dict[str, _Trie] = field(default_factory=dict)


@dataclass
class CfdiSchema:
    """The compiled SAT schema set plus the catalog checks lifted out of it."""

    schema: etree.XMLSchema
    #: (namespace, element path within that namespace) -> catalog checks of its attributes
    catalog_checks: dict[tuple[str, tuple[str, ...]], list[_CatalogCheck]] = field(default_factory=dict)
    namespaces: frozenset[str] = frozenset()
    #: whether the known schemas leave elements only where ``Layout`` looks for them (see ``build``)
    layout_ok: bool = False
    #: the namespaces ``schema`` covers; a document with a complement of another one of ``namespaces`` is
    #: validated by ``compile_all()``'s schema, compiled on first use (None: ``schema`` covers them all)
    everyday: frozenset[str] | None = None
    compile_all: Callable[[], etree.XMLSchema] | None = field(default=None, repr=False)
    _all: etree.XMLSchema | None = field(default=None, init=False, repr=False)
    _all_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: complement root tag -> _EVERYDAY, _RARE or _UNKNOWN (``_complement_kind``)
    _complement_kinds: dict[str, object] = field(default_factory=dict, init=False, repr=False)
    #: last Clark tag of a catalog path -> (the path's other Clark tags, nearest first; "{namespace}"; its checks)
    _by_tag: dict[str, list[tuple[tuple[str, ...], str, list[_CatalogCheck]]]] = field(init=False, repr=False)
    #: Clark tag of a complement's root -> the trie of its catalog paths (namespaces other than cfdi)
    _tries: dict[str, _Trie] = field(init=False, repr=False)
    #: imported catalog (type name) -> key -> (FechaInicioVigencia, FechaFinVigencia), for keys whose validity
    #: can matter to a CFDI 4.0 (``out_of_force``); empty with the wheel's catalogs, which carry no dates
    bounded: dict[str, dict[str, tuple[date | None, date | None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_tag = {}
        for (namespace, path), checks in self.catalog_checks.items():
            tags = tuple(f"{{{namespace}}}{local}" for local in reversed(path))
            self._by_tag.setdefault(tags[0], []).append((tags[1:], f"{{{namespace}}}", checks))
        self._tries = {}
        for (namespace, path), checks in self.catalog_checks.items():
            if namespace == CFDI4:
                continue
            tags = [f"{{{namespace}}}{local}" for local in path]
            trie = self._tries.setdefault(tags[0], _Trie())
            for tag in tags[1:]:
                trie = trie.children.setdefault(tag, _Trie())
            trie.checks.extend(checks)
        cfdi_paths = {path for namespace, path in self.catalog_checks if namespace == CFDI4}
        self.layout_ok = self.layout_ok and cfdi_paths <= LAYOUT_PATHS

    @classmethod
    def build(cls, sat_root: Path, schemas: dict[str, str] | None = None,
              replacements: dict[str, frozenset[str]] | None = None) -> CfdiSchema:
        """``replacements``: catalog name -> the keys of an imported catalog, in place of the schemas' values."""
        schemas = schemas or KNOWN_SCHEMAS
        available = {ns: rel for ns, rel in schemas.items() if cfd_path(sat_root, rel).is_file()}
        overrides, lifted = _strip_large_enumerations(sat_root, replacements or {})

        def compile_schemas(namespaces: dict[str, str]) -> etree.XMLSchema:
            imports = "".join(
                f'<xs:import namespace="{ns}" schemaLocation="{cfd_path(sat_root, rel).resolve().as_uri()}"/>'
                for ns, rel in sorted(namespaces.items())
            )
            wrapper = f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'.encode()
            doc = etree.fromstring(wrapper, file_parser(sat_root, overrides), base_url=str(sat_root / "wrapper.xsd"))
            return etree.XMLSchema(doc)

        everyday = {ns: rel for ns, rel in available.items() if ns in EVERYDAY}
        rest = len(everyday) < len(available)
        schema = compile_schemas(everyday if rest else available)
        checks: dict[tuple[str, tuple[str, ...]], list[_CatalogCheck]] = {}
        closed_complements = True  # no complement lets in elements of another schema (see ``_catalogs_ok``)
        for ns, rel in available.items():
            openings = _collect_catalog_uses(cfd_path(sat_root, rel), lifted, checks)
            closed_complements = closed_complements and (ns == CFDI4 or not openings)
        return cls(schema, checks, frozenset(available), layout_ok=closed_complements,
                   everyday=frozenset(everyday) if rest else None,
                   compile_all=(lambda: compile_schemas(available)) if rest else None)

    def _complement_kind(self, tag: str) -> object:
        """Whether a complement's root tag is of an everyday namespace, another known one, or unknown (cached)."""
        kind = self._complement_kinds.get(tag)
        if kind is None:
            namespace = _namespace(tag)
            if namespace not in self.namespaces:
                kind = _UNKNOWN
            elif self.everyday is not None and namespace not in self.everyday:
                kind = _RARE
            else:
                kind = _EVERYDAY
            if len(self._complement_kinds) < _KINDS_KEPT:  # tags come from documents: keep the cache bounded
                self._complement_kinds[tag] = kind
        return kind

    def _schema_for(self, rare: bool) -> etree.XMLSchema:
        """``schema``, or the one with every known namespace when the document has a complement outside it."""
        if not rare or self.compile_all is None:
            return self.schema
        with self._all_lock:
            if self._all is None:
                self._all = self.compile_all()
            return self._all

    def validate(self, root: etree._Element, layout: Layout | None = None) -> list[Finding]:
        """Findings for ``root`` (a parsed CFDI); addenda and unknown complements are left out."""
        findings: list[Finding] = []
        target, rare = self._validation_copy(root, findings, layout)
        schema = self._schema_for(rare)
        if not schema.validate(target):
            for entry in schema.error_log:
                message = entry.message
                if len(message) > _MESSAGE_LIMIT:
                    message = message[:_MESSAGE_LIMIT] + "…"
                findings.append(
                    error("XSD", f"No cumple el esquema del SAT: {message}", line=entry.line, xpath=entry.path or None)
                )
        elif layout is not None and self.layout_ok and self._catalogs_ok(layout):
            return findings
        findings.extend(self._check_catalogs(target))
        return findings

    def _validation_copy(self, root: etree._Element, findings: list[Finding],
                         layout: Layout | None = None) -> tuple[etree._Element, bool]:
        """The tree libxml2 validates: without the Addenda (outside the seal, no SAT schema) and without every
        complement, in cfdi:Complemento or in a concepto's cfdi:ComplementoConcepto, we have no schema for.

        The original stays intact (the seals are checked on it); the copy is made only when something is set
        aside. A ComplementoConcepto left with no element is set aside too: its ``xs:any`` demands one.
        """
        removable: list[etree._Element] = []
        if layout is None:
            complements: list[etree._Element] = []
            concept_complements: list[etree._Element] = []
            for child in root:
                tag = child.tag
                if tag == _ADDENDA:
                    removable.append(child)
                elif tag == _COMPLEMENTO:
                    complements.extend(c for c in child if isinstance(c.tag, str))
                elif tag == _CONCEPTOS:
                    for concepto in child:
                        for part in concepto:
                            if part.tag == _COMPLEMENTO_CONCEPTO:
                                concept_complements.extend(c for c in part if isinstance(c.tag, str))
        else:
            removable.extend(layout.addenda)
            complements = layout.complements
            concept_complements = layout.concept_complements
        kinds = self._complement_kinds
        unknown: list[etree._Element] = []
        rare = False  # a known complement outside ``everyday``: the full schema set validates the document
        for complement in complements:
            tag = complement.tag
            kind = kinds.get(tag)
            if kind is None:
                kind = self._complement_kind(tag)
            if kind is _UNKNOWN:
                unknown.append(complement)
            elif kind is _RARE:
                rare = True
        if concept_complements:
            by_parent: dict[etree._Element, list[etree._Element]] = {}
            for complement in concept_complements:
                kind = self._complement_kind(complement.tag)
                if kind is _UNKNOWN:
                    unknown.append(complement)
                    by_parent.setdefault(complement.getparent(), []).append(complement)
                elif kind is _RARE:
                    rare = True
            for parent, dropped in by_parent.items():
                left = sum(1 for c in parent if isinstance(c.tag, str)) - len(dropped)
                removable.extend(dropped if left else [parent])
            removable.extend(c for c in unknown if c.getparent() not in by_parent)
        else:
            removable.extend(unknown)
        for complement in unknown:
            qname = etree.QName(complement)
            findings.append(
                info("XSD-UNKNOWN-COMPLEMENT",
                     f"Complemento {qname.localname} ({qname.namespace}) no se valida: el SAT no publica su "
                     "esquema o el gateway no lo tiene.", line=complement.sourceline, xpath=xpath_of(complement))
            )
        if not removable:
            return root, rare
        copy = deepcopy(root)  # same structure: each removable node is found in the copy by its child indexes
        targets = [_follow(copy, _index_path(node)) for node in removable]
        for target in targets:  # found first, removed after: a removal shifts the indexes of later siblings
            target.getparent().remove(target)
        return copy, rare

    def _catalogs_ok(self, layout: Layout) -> bool:
        """Whether every lifted catalog attribute of a tree libxml2 found valid holds a catalog value.

        In a valid tree the cfdi paths start at the root and every other path at a complement's root (the
        only wildcards are cfdi:Complemento's and cfdi:ComplementoConcepto's, ``build`` checks), so this
        reads the nodes the layout names and follows each complement's trie, nothing else.
        """
        checks = self.catalog_checks
        for path, element in layout.cfdi_nodes:
            for check in checks.get((CFDI4, path), ()):
                if not _in_catalog(element.get(check.attribute), check):
                    return False
        tries = self._tries
        for complement in (*layout.complements, *layout.concept_complements):
            trie = tries.get(complement.tag)
            if trie is not None and not _trie_ok(complement, trie, layout.groups):
                return False
        return True

    def out_of_force(self, root: etree._Element, day: date) -> list[Finding]:
        """Catalog keys not in force on ``day`` (the invoice's Fecha) by the imported catalogs' validity dates.

        Only keys with a start after CFDI 4.0's first day or an end date are kept in ``bounded``, so the walk runs
        only when an imported catalog has such keys, and costs one dict lookup per catalog attribute.
        """
        if not self.bounded:
            return []
        findings: list[Finding] = []
        by_tag = self._by_tag
        bounded = self.bounded
        for element in root.iter():
            entries = by_tag.get(element.tag)
            if entries is None:
                continue
            for ancestors, namespace, checks in entries:
                if not _on_path(element, ancestors, namespace):
                    continue
                for check in checks:
                    periods = bounded.get(check.type_name)
                    raw = element.get(check.attribute)
                    if periods is None or raw is None:
                        continue
                    period = periods.get(" ".join(raw.split()))
                    if period is None or ((period[0] is None or period[0] <= day)
                                          and (period[1] is None or day <= period[1])):
                        continue
                    since = period[0].strftime("%d/%m/%Y") if period[0] else "—"
                    until = period[1].strftime("%d/%m/%Y") if period[1] else "—"
                    findings.append(error(
                        "CFDI-CATALOG-VIGENCIA",
                        f"La clave '{raw.strip()[:40]}' del atributo {check.attribute} no estaba vigente en el "
                        f"catálogo {check.type_name} el {day:%d/%m/%Y} (Fecha del comprobante; vigencia: del {since} "
                        f"al {until}) / key not in force on the invoice's Fecha",
                        line=element.sourceline, xpath=f"{xpath_of(element)}/@{check.attribute}"))
        return findings

    def _check_catalogs(self, root: etree._Element) -> list[Finding]:
        """Catalog attributes of every element on a catalog path, in document order.

        One plain walk, each tag looked up in a dict (``iter`` given the 40-odd tags costs several
        times more: lxml prepares its tag matcher on every call). An element whose tag ends a
        catalog path is confirmed by its ancestors: a path runs within one namespace and starts
        at the root or at an element whose parent is in another namespace (a complement's root).
        """
        findings: list[Finding] = []
        by_tag = self._by_tag
        for element in root.iter():
            entries = by_tag.get(element.tag)
            if entries is not None:
                for ancestors, namespace, checks in entries:
                    if _on_path(element, ancestors, namespace):
                        _check_attributes(element, checks, findings)
        return findings


def _in_catalog(raw: str | None, check: _CatalogCheck) -> bool:
    """Absent, or in the catalog as written or with its blanks collapsed (the types' whiteSpace is collapse)."""
    return raw is None or raw in check.values or " ".join(raw.split()) in check.values


def _trie_ok(element: etree._Element, trie: _Trie, groups: dict[etree._Element, dict[str, list[etree._Element]]]
             ) -> bool:
    for check in trie.checks:
        if not _in_catalog(element.get(check.attribute), check):
            return False
    if trie.children:
        children = groups.get(element)
        if children is None:
            children = groups[element] = children_by_tag(element)
        for tag, child_trie in trie.children.items():
            for child in children.get(tag, ()):
                if not _trie_ok(child, child_trie, groups):
                    return False
    return True


def _on_path(element: etree._Element, ancestors: tuple[str, ...], namespace: str) -> bool:
    """Whether the ancestors of ``element`` are ``ancestors`` (nearest first), the farthest starting ``namespace``."""
    node = element
    for tag in ancestors:
        node = node.getparent()
        if node is None or node.tag != tag:
            return False
    parent = node.getparent()
    return parent is None or not isinstance(parent.tag, str) or not parent.tag.startswith(namespace)


def _index_path(node: etree._Element) -> list[int]:
    """The child indexes leading from the root to ``node`` (comments and PIs count, as in the copy)."""
    path: list[int] = []
    parent = node.getparent()
    while parent is not None:
        path.append(parent.index(node))
        node, parent = parent, parent.getparent()
    path.reverse()
    return path


def _follow(root: etree._Element, path: list[int]) -> etree._Element:
    node = root
    for index in path:
        node = node[index]
    return node


def _namespace(tag: str) -> str:
    """The namespace of a Clark tag ("" if it has none)."""
    return tag[1:tag.index("}")] if tag[:1] == "{" else ""


def _check_attributes(element: etree._Element, checks: list[_CatalogCheck], findings: list[Finding]) -> None:
    for check in checks:
        raw = element.get(check.attribute)
        if not _in_catalog(raw, check):
            value = " ".join(raw.split())  # type: ignore[union-attr]  # as the schema's whiteSpace collapse reads it
            findings.append(
                error("XSD",
                      f"No cumple el esquema del SAT: el valor '{value[:60]}' del atributo "
                      f"{check.attribute} no está en el catálogo {check.type_name}.",
                      line=element.sourceline, xpath=f"{xpath_of(element)}/@{check.attribute}")
            )


#: the namespaces of catCFDI.xsd and catComExt.xsd, whose types are named as SAT's catalogs (``c_Moneda``)
CATALOG_NAMESPACES = frozenset({"http://www.sat.gob.mx/sitio_internet/cfd/catalogos",
                                "http://www.sat.gob.mx/sitio_internet/cfd/catalogos/ComExt"})


def _strip_large_enumerations(sat_root: Path, replacements: dict[str, frozenset[str]] | None = None
                              ) -> tuple[dict[str, bytes], dict[tuple[str, str], frozenset[str]]]:
    """Catalog XSDs rewritten without their big (or imported) enumerations, and the lifted value sets.

    Without imported catalogs, or when each one replaces a catalog that is lifted anyway (the big ones), the
    result is read from ``liftcache`` when it holds one for these files: the rewritten XSDs are the same, only
    the replaced value sets differ. Otherwise the files are read and rewritten here.
    """
    replacements = replacements or {}
    files = sorted(cfd_path(sat_root, "catalogos").rglob("*.xsd"))
    name = liftcache.key(files, ENUM_THRESHOLD)
    cached = liftcache.load(name)
    if cached is None:
        cached = _strip(files, {})
        liftcache.save(name, cached)
    overrides, lifted, enumerated = cached
    # a replaced catalog whose enumeration is lifted anyway: the same rewritten XSDs, only its values change
    replaced = [key for key in enumerated if key[1] in replacements]
    if all(key in lifted for key in replaced):
        lifted = dict(lifted)
        for key in replaced:
            lifted[key] = replacements[key[1]]
        return overrides, lifted
    overrides, lifted, _ = _strip(files, replacements)
    return overrides, lifted


def _strip(files: list[Path], replacements: dict[str, frozenset[str]]) -> liftcache.Lifted:
    """The rewritten XSDs, the lifted sets, and every enumerated catalog type (what a replacement may lift)."""
    overrides: dict[str, bytes] = {}
    lifted: dict[tuple[str, str], frozenset[str]] = {}
    enumerated: set[tuple[str, str]] = set()
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True)
    for path in files:
        tree = etree.parse(str(path), parser)
        target_ns = tree.getroot().get("targetNamespace")
        changed = False
        for simple in tree.getroot().iterfind(f"{{{XS}}}simpleType"):
            restriction = simple.find(f"{{{XS}}}restriction")
            if restriction is None or restriction.get("base") not in ("xs:string", "xs:token"):
                continue
            enums = restriction.findall(f"{{{XS}}}enumeration")
            if enums and target_ns in CATALOG_NAMESPACES:
                enumerated.add((target_ns, simple.get("name")))
            collapse = restriction.find(f"{{{XS}}}whiteSpace")
            replacement = replacements.get(simple.get("name")) if target_ns in CATALOG_NAMESPACES else None
            if replacement is None and (len(enums) <= ENUM_THRESHOLD or collapse is None
                                        or collapse.get("value") != "collapse"):
                continue
            if not enums:
                continue  # a pattern type, not an enumeration
            values = replacement if replacement is not None else frozenset(e.get("value") for e in enums)
            lifted[(target_ns, simple.get("name"))] = values
            for enum in enums:
                restriction.remove(enum)
            changed = True
        if changed:
            overrides[str(path.resolve())] = etree.tostring(tree)
    return overrides, lifted, frozenset(enumerated)


def _collect_catalog_uses(
    xsd_path: Path,
    lifted: dict[tuple[str, str], frozenset[str]],
    checks: dict[tuple[str, tuple[str, ...]], list[_CatalogCheck]],
) -> int:
    """Find every attribute typed with a lifted catalog, keyed by its element path.

    Returns how many places of the schema admit elements it does not declare itself (xs:any, xs:element ref).
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    tree = etree.parse(str(xsd_path), parser)
    openings = sum(1 for _ in tree.getroot().iter(f"{{{XS}}}any"))
    openings += sum(1 for e in tree.getroot().iter(f"{{{XS}}}element") if e.get("ref"))
    target_ns = tree.getroot().get("targetNamespace")
    lifted_names = {name for _, name in lifted}
    element_tag = f"{{{XS}}}element"
    for attribute in tree.getroot().iter(f"{{{XS}}}attribute", element_tag):
        type_ref = attribute.get("type")
        if not type_ref or ":" not in type_ref:
            continue
        prefix, local = type_ref.split(":", 1)
        if local not in lifted_names:  # most types: no need to build the element's namespace map
            continue
        key = (attribute.nsmap.get(prefix), local)
        if key not in lifted:
            continue
        if attribute.tag == element_tag:
            raise ValueError(f"{xsd_path}: element {attribute.get('name')} uses catalog {local}; not supported")
        names = []
        ancestor = attribute.getparent()
        while ancestor is not None:  # the named xs:element ancestors, nearest first
            if ancestor.tag == element_tag and ancestor.get("name"):
                names.append(ancestor.get("name"))
            ancestor = ancestor.getparent()
        path = tuple(reversed(names))
        checks.setdefault((target_ns, path), []).append(_CatalogCheck(attribute.get("name"), local, lifted[key]))
    return openings
