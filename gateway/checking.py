"""The check of one file's bytes: detect its kind, refuse what it must not be, and run the kind's checks.

Shared by the pipeline (``gateway/pipeline.py``), its worker processes (``gateway/pipeline_worker.py``) and
``validate`` (``gateway/library.py``): the same bytes get the same verdict wherever they are checked. Never
raises, whatever the bytes (``guarded``): a defect in a reader or a library is an INTERNAL finding on the
document, never an exception that stops the files after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from gateway import logs, xmlsafe
from gateway.findings import Finding, error
from gateway.kinds import KindRegistry
from gateway.kinds.base import CheckResult, ChecksFileName, Part, implements
from gateway.limits import LimitExceeded

log = logs.get("gateway.checking")


def guarded(check: Callable[[], tuple[str | None, CheckResult]]) -> tuple[str | None, CheckResult]:
    """The last resort: whatever a reader or library raises (now or while a container's parts are read lazily)
    becomes a finding on this document, never an exception that stops the files after it."""
    try:
        kind_name, result = check()
    except LimitExceeded as exc:
        return None, CheckResult([exc.finding])
    except Exception as exc:  # noqa: BLE001 - the gateway must survive any single document
        log.error("checker failed", exc_info=exc)
        return None, CheckResult([internal(exc)])
    if result.parts is not None:
        result.parts = _guarded_parts(result.parts, result.findings)
    return kind_name, result


def _guarded_parts(parts: Iterable[Part], findings: list[Finding]) -> Iterator[Part]:
    try:
        yield from parts
    except LimitExceeded as exc:
        findings.append(exc.finding)
    except Exception as exc:  # noqa: BLE001 - a container that fails half-way is rejected whole
        log.error("checker failed while reading the parts", exc_info=exc)
        findings.append(internal(exc))


def internal(exc: BaseException) -> Finding:
    return error("INTERNAL", f"Error interno al validar el documento ({type(exc).__name__}); se conservó en la cola "
                             "para reintentarlo cuando se corrija.")


def check_with(kinds: KindRegistry, data: bytes, filename: str, declared_kind: str,
                 trusted: bool) -> tuple[str | None, CheckResult]:
    if not data:
        return None, CheckResult([error("FILE-EMPTY", "El archivo está vacío (0 bytes).")])
    kind_name = declared_kind if declared_kind != "auto" else kinds.detect(data, filename)
    if kind_name and not trusted and kinds.is_internal(kind_name, data):
        return None, CheckResult([error(
            "FILE-INTERNAL-FORMAT", "El archivo tiene la forma de una parte que el gateway genera él mismo (un "
            "fragmento de exportación ERP o una parte de pedimento de un Data Stage); esas partes nunca se aceptan "
            "de una fuente ni de validate. Envíe el archivo original (la exportación del ERP, el ZIP del Data "
            "Stage).")])
    kind = kinds.get(kind_name) if kind_name else None
    if kind is None:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            parsed = xmlsafe.parse(data)
            if not parsed.ok:  # say what is wrong with the XML itself (bomb, XXE, truncation) first
                return kind_name, CheckResult(parsed.findings)
        reason = (f"El tipo de documento '{declared_kind}' aún no está disponible en este gateway."
                  if declared_kind != "auto" else
                  "No se reconoce el tipo de documento (se esperaba un CFDI 4.0 en XML, un archivo de "
                  "validación de pedimentos, un Data Stage o una respuesta de VUCEM).")
        return kind_name, CheckResult([error("FILE-UNKNOWN-KIND", reason)])
    if implements(kind, ChecksFileName):  # kinds that check the file name too (M file vs its 801)
        return kind_name, kind.check_named(data, filename)
    return kind_name, kind.check(data)
