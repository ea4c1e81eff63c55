"""An XML export against the ERP's own XSD (``source.xsd``), streamed, before any row is mapped.

ERPs publish schemas for their interfaces (SAP IDoc XML, Oracle EBS/Fusion interface files); a file that breaks
its schema is reported as such — one ``XSD`` finding per violation, with its line and path — instead of as a
puzzle of row errors. The schema is compiled by **xmlschema** from the mapping's folder only (``allow =
"sandbox"``: imports and includes may not leave it, nothing is fetched) and the export is read with the
hardened ``xmlsafe.iterparse`` (lxml, so each error has its line).

Memory stays flat on a 500 MB export: xmlschema's own lazy mode keeps an emptied element per record under
its parent (≈ 650 bytes each, so it grows with the file), so the export is walked here instead and each
subtree at the records' level (a record, and the elements beside it such as a shipment's date) is validated
against its declaration with xmlschema, then freed. The elements above that level are checked to be declared
where they are, but their content model (how many records a shipment may hold) is not: that would need every
record kept. xmlschema is pure Python, ≈ 100× slower than libxml2: ``docs/erp.md`` says why the CFDI kind
keeps lxml.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from lxml import etree

from gateway import xmlsafe
from gateway.findings import Finding, error
from gateway.kinds.erp.readers import SourceProblem, _clark, _free

#: XSD findings kept per export; the rest are counted in one finding
MAX_FINDINGS = 1000
#: elements one subtree beside the records may hold: more means source.records does not describe the file
MAX_UNIT_ELEMENTS = 100_000
_cache: dict[tuple[Path, float], Any] = {}
_lock = threading.Lock()


def load(path: Path) -> Any:  # noqa: ANN401 - xmlschema.XMLSchema
    """The compiled schema (kept while the file is unchanged); raises SourceProblem (ERP-MAPPING) if it is bad."""
    import xmlschema

    key = (path, path.stat().st_mtime if path.exists() else 0.0)
    with _lock:
        schema = _cache.get(key)
    if schema is not None:
        return schema
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            schema = xmlschema.XMLSchema(str(path), base_url=str(path.parent), allow="sandbox", defuse="always")
    except (xmlschema.XMLSchemaException, OSError, etree.LxmlError, SyntaxError) as exc:
        raise SourceProblem(error("ERP-MAPPING", f"source.xsd: el esquema {path.name} no se puede usar: "
                                                 f"{str(exc).splitlines()[0]}", key="source.xsd")) from None
    missing = [str(w.message) for w in caught if issubclass(w.category, xmlschema.XMLSchemaImportWarning)]
    if missing:  # an import or include outside the folder (or on the network) is never fetched
        raise SourceProblem(error("ERP-MAPPING", f"source.xsd: el esquema {path.name} importa otro que no está en "
                                                 f"su carpeta (sin red): {missing[0]}", key="source.xsd"))
    with _lock:
        _cache[key] = schema
    return schema


def validate(path: Path, records: str, namespaces: dict[str, str], stream: IO[bytes]) -> list[Finding]:
    """Every violation of the schema at ``path`` in ``stream`` (an ``XSD`` finding with line and path)."""
    schema = load(path)
    depth = len([step for step in records.strip("/").split("/") if step])
    declarations: dict[tuple[str, ...], Any] = {}
    wanted = [_clark(step, namespaces) for step in records.strip("/").split("/") if step]
    findings: list[Finding] = []
    count = 0
    stack: list[str] = []
    unit = 0  # level of the subtree being read whole (a record, or data beside the records' containers)
    size = 0

    def report(message: str, line: int | None, xpath: str) -> None:
        nonlocal count
        count += 1
        if count <= MAX_FINDINGS:
            findings.append(error("XSD", f"El XML no cumple el esquema {path.name}: {message}", line=line,
                                  xpath=xpath))

    try:
        for event, element in xmlsafe.iterparse(cast(BinaryIO, stream), events=("start", "end")):
            if event == "start":
                stack.append(element.tag)
                level = len(stack)
                if unit:
                    size += 1
                    if size > MAX_UNIT_ELEMENTS:
                        raise SourceProblem(error(
                            "ERP-MAPPING", f"el elemento <{etree.QName(stack[unit - 1]).localname}> de la línea "
                            f"{element.sourceline} contiene más de {MAX_UNIT_ELEMENTS:,} elementos fuera de "
                            f"'{records}' (source.records): la ruta de los registros no corresponde al archivo",
                            key="source.records"))
                    continue
                if level == 1 and element.tag != wanted[0]:
                    raise SourceProblem(error("ERP-MAPPING", f"el elemento raíz es <{etree.QName(element).localname}>; "
                                                             f"el mapeo espera '{records}' (source.records)",
                                              line=element.sourceline))
                if level < depth and element.tag == wanted[level - 1]:  # parents are on the path, or unit is set
                    if _declaration(schema, declarations, stack) is None:  # a container of records: its name only
                        report(f"el elemento <{etree.QName(element).localname}> no está declarado en este lugar",
                               element.sourceline, _xpath(stack))
                else:
                    unit, size = level, 0
                continue
            level = len(stack)
            if level == unit:
                unit = 0
                declaration = _declaration(schema, declarations, stack)
                if declaration is None:
                    report(f"el elemento <{etree.QName(element).localname}> no está declarado en este lugar",
                           element.sourceline, _xpath(stack))
                else:
                    prefix = _xpath(stack[:-1])
                    for problem in declaration.iter_errors(element):
                        report(problem.reason or problem.message, problem.sourceline or element.sourceline,
                               prefix + _local_path(problem.path))
                _free(element)
            elif not unit and level > 1:
                _free(element)
            stack.pop()
    except etree.XMLSyntaxError as exc:
        last = exc.error_log.last_error
        raise SourceProblem(error("XML-MALFORMED", f"El XML no está bien formado: {last.message if last else exc}",
                                  line=last.line if last else exc.lineno)) from None
    except xmlsafe.Forbidden as exc:
        raise SourceProblem(exc.finding) from None
    if count > MAX_FINDINGS:
        findings.append(error("XSD", f"… y {count - MAX_FINDINGS:,} violaciones más del esquema {path.name} "
                                     f"({count:,} en total)."))
    return findings


def _declaration(schema: Any, cache: dict[tuple[str, ...], Any], stack: list[str]) -> Any:  # noqa: ANN401
    key = tuple(stack)
    if key not in cache:
        cache[key] = schema.find("/" + "/".join(stack))
    return cache[key]


def _xpath(stack: list[str]) -> str:
    return "/" + "/".join(etree.QName(tag).localname for tag in stack)


def _local_path(path: str | None) -> str:
    """xmlschema's ``/{urn:x}Line/{urn:x}Qty`` as ``/Line/Qty``."""
    if not path:
        return ""
    return "/" + "/".join(step.rsplit("}", 1)[-1] for step in path.strip("/").split("/"))
