"""IMMEX discharges related to their originals on arrival, in any order, counted once each.

A return, transfer or regime change (RT, V1, F4, A3…) names in each 512 record the temporary import it
discharges. When a pedimento is normalised (inside its own transaction, called by the pipeline):

* a temporary import records its partidas and return deadlines (``immex_imports``), is linked both ways to
  every discharge already seen that names it (``discharged-by`` / ``discharges``), wakes the discharges that
  were waiting for it, and takes the findings about discharges that were forwarded before it arrived;
* a discharge records its 512 lines (``immex_discharges``, keyed by the discharging document, so a retry
  rewrites its rows and never counts twice) and, when an original is not in the store yet, waits in
  ``pending`` for it (``[immex] wait_for_originals``) up to ``correlation_timeout``; then it is checked
  (IMMEX-ORIGINAL-MISSING, IMMEX-DISCHARGE-FRACCION, IMMEX-DISCHARGE-LATE, IMMEX-OVER-DISCHARGE: warnings,
  SAT does not reject on them) and goes on to correlation with its COVEs like any pedimento.

Over-discharge sums every live discharge of the original's fracción: a resend of the same pedimento (same
business key) counts once, its newest copy; a replaced, discarded or rejected document counts for nothing;
a rectified discharge counts only as its rectification. A rectification (R1) of the original supersedes its
clock: its partidas and deadline are the ones compared. Everything happens in the caller's transaction, so a
crash repeats it, never halves it. The figures are an early warning from the documents this gateway saw,
not the Annex 24 balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway import logs
from gateway.faults import crash_point
from gateway.findings import Finding, warning
from gateway.kinds.pedimento.clock import discharge_date, original_key
from gateway.kinds.pedimento.normalise import numbers
from gateway.routing import route
from gateway.runtime import Runtime
from gateway.store.base import CoreStore as Store
from gateway.store.base import Document, now

log = logs.get("gateway.immex")

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def on_normalised(gw: Runtime, doc: Document, kind: str | None, record: dict[str, Any] | None,
                  business_key: str | None) -> str | None:
    """Record the clock and the discharges of a normalised pedimento; ``"pending"`` when it waits for originals."""
    if kind != "pedimento" or not record or not business_key:
        return None
    store = gw.store
    imports = import_rows(record, business_key)
    store.put_immex_imports(doc.id, imports)
    lines = discharge_rows(record, business_key)
    store.put_immex_discharges(doc.id, lines)
    if imports:
        store.add_findings(doc.id, _original_arrived(gw, doc.id, business_key, imports[0]["corrects_key"]))
        crash_point("immex.before-commit")  # the import, its links and the discharges it woke commit together
    if not lines:
        return None
    missing = sorted({line["original_key"] for line in lines if not family_of(store, line["original_key"]).present})
    if missing and gw.settings.immex.wait_for_originals:
        store.put_correlation_keys(doc.id, [], [])  # not a member of any correlation group while it waits
        store.set_state(doc.id, "pending", gw.actor, "immex-wait", detail={"originals": missing})
        store.set_immex_wait(doc.id, now())
        log.info("discharge waits for its originals", originals=missing)
        return "pending"
    _link(store, doc.id, lines)
    store.add_findings(doc.id, check_discharge(gw, doc.id, lines))
    return None


def resolve_timeouts(gw: Runtime, at: datetime | None = None) -> int:
    """Discharges that waited ``correlation_timeout`` for an original go on with IMMEX-ORIGINAL-MISSING."""
    at = at or datetime.now(UTC)
    before = (at - timedelta(seconds=gw.settings.correlation_timeout)).strftime(_FORMAT)
    resumed = 0
    for document_id in gw.store.immex_waiting(before):
        with gw.store.transaction():
            if gw.store.immex_waiting(document_id=document_id):  # not resumed meanwhile by another process
                _resume(gw, document_id)
                resumed += 1
    return resumed


def _resume(gw: Runtime, document_id: str) -> None:
    """A waiting discharge is checked with what the store holds now and goes on to correlation."""
    store = gw.store
    store.clear_immex_wait(document_id)
    doc = store.get(document_id)
    lines = store.immex_discharges(document_id=document_id, live=False)
    _link(store, document_id, lines)
    store.add_findings(document_id, check_discharge(gw, document_id, lines))
    route(gw, document_id, doc.kind if doc else None, doc.record if doc else None)


def _original_arrived(gw: Runtime, document_id: str, key: str, corrects: str | None) -> list[Finding]:
    """Link the discharges naming this import, wake those waiting for it; findings on it about the others."""
    store = gw.store
    family = family_of(store, corrects or key)
    findings: list[Finding] = []
    waiting = set(store.immex_waiting())
    unchecked = set()  # discharges that went on without this original: what they could not check is told here
    by_document: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in store.immex_discharges(original_keys=family.keys):
        by_document[line["document_id"]].append(line)
    for discharge_id, lines in sorted(by_document.items()):
        _link(store, discharge_id, lines)
        if discharge_id in waiting:
            own = store.immex_discharges(document_id=discharge_id, live=False)
            if all(family_of(store, line["original_key"]).present for line in own):
                _resume(gw, discharge_id)
            continue
        if any(f.code == "IMMEX-ORIGINAL-MISSING" and f.location.get("original") in family.keys
               for f in store.findings(discharge_id)):
            unchecked.add(discharge_id)
            for line in lines:
                findings += _line_findings(family, line)
    fracciones = {line["fraccion"] for d in unchecked for line in by_document[d]}
    for fraccion in sorted(fracciones):
        findings += _over_discharge(store, family, fraccion)
    return findings


def check_discharge(gw: Runtime, document_id: str, lines: list[dict[str, Any]]) -> list[Finding]:
    """The findings of one discharging pedimento against the originals in the store."""
    store = gw.store
    findings: list[Finding] = []
    over: dict[str, tuple[Family, set[str]]] = {}
    waited = (f"se esperó el plazo de correlación, {gw.settings.correlation_timeout / 3600:g} h"
              if gw.settings.immex.wait_for_originals else "sin esperar: [immex] wait_for_originals = false")
    for line in sorted(lines, key=lambda x: x["line"]):
        family = family_of(store, line["original_key"])
        if not family.present:
            findings.append(warning(
                "IMMEX-ORIGINAL-MISSING", f"Descargo {line['line']} (512): el pedimento original "
                f"{_printed(line['original_key'])} no está en el gateway ({waited}); "
                "no se pudo cotejar la fracción, la fecha ni la cantidad descargada.",
                record="512", discharge=line["line"], original=line["original_key"]))
            continue
        findings += _line_findings(family, line)
        over.setdefault(family.key, (family, set()))[1].add(line["fraccion"])
    for family, fracciones in over.values():
        for fraccion in sorted(fracciones):
            findings += _over_discharge(store, family, fraccion)
    return findings


# the original and its rectifications ----------------------------------------------------------------------

@dataclass
class Family:
    """An original temporary import and its rectifications: one clock, the newest rectification's."""

    key: str                                             # the original's business key
    keys: set[str] = field(default_factory=set)          # its key and its rectifications' keys
    rows: list[dict[str, Any]] = field(default_factory=list)  # partidas of the clock in force
    present: bool = False

    def imported(self, fraccion: str | None) -> Decimal:
        return sum((as_decimal(r["quantity"]) for r in self.rows if r["fraccion"] == fraccion), Decimal(0))

    def deadline(self, fraccion: str | None) -> str | None:
        return max((r["deadline"] for r in self.rows if r["fraccion"] == fraccion and r["deadline"]), default=None)

    @property
    def label(self) -> str:
        return self.rows[0]["printed"] if self.rows and self.rows[0]["printed"] else _printed(self.key)


def family_of(store: Store, key: str) -> Family:
    rows = store.immex_imports(keys=[key])
    own = [r for r in rows if r["pedimento_key"] == key and r["corrects_key"]]
    if own:  # the key names a rectification: its family is the pedimento it corrects
        key = own[0]["corrects_key"]
        rows = store.immex_imports(keys=[key])
    family = Family(key, {key} | {r["pedimento_key"] for r in rows})
    rectifications = [r for r in rows if r["corrects_key"] == key]
    family.rows = _newest(rectifications or [r for r in rows if r["pedimento_key"] == key])
    family.present = bool(family.rows) or any(d.state in ("normalised", "pending", "ready", "forwarded")
                                              for d in store.find_by_business_key(key, "pedimento"))
    return family


def _newest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the newest document among them (a resend of the same pedimento replaces the earlier copy)."""
    if not rows:
        return []
    newest = max(rows, key=lambda r: (r["received_at"], r["document_id"]))["document_id"]
    return sorted((r for r in rows if r["document_id"] == newest), key=lambda r: r["partida"])


def counted_discharges(store: Store, family: Family) -> list[dict[str, Any]]:
    """Every live discharge line of the family, each discharging pedimento once (newest copy, not rectified)."""
    lines = store.immex_discharges(original_keys=family.keys)
    # a discharging pedimento rectified since counts only as its rectification, even one that names other originals
    corrected = {r["corrects_key"] for r in store.immex_discharges(corrects_keys={x["discharge_key"] for x in lines})}
    newest: dict[str, tuple[str, str]] = {}
    for line in lines:
        mark = (line["received_at"], line["document_id"])
        if line["discharge_key"] not in newest or mark > newest[line["discharge_key"]]:
            newest[line["discharge_key"]] = mark
    return [line for line in lines if line["discharge_key"] not in corrected
            and newest[line["discharge_key"]][1] == line["document_id"]]


def discharged(store: Store, family: Family) -> dict[str | None, Decimal]:
    totals: dict[str | None, Decimal] = defaultdict(Decimal)
    for line in counted_discharges(store, family):
        totals[line["fraccion"]] += as_decimal(line["quantity"])
    return totals


# findings -------------------------------------------------------------------------------------------------

def _line_findings(family: Family, line: dict[str, Any]) -> list[Finding]:
    where = {"record": "512", "discharge": line["line"], "original": family.key, "fraccion": line["fraccion"]}
    who = f"Descargo {line['line']} (512) del pedimento {_printed(line['discharge_key'])}"
    if not family.rows:
        return []  # the original is in the store but is not a temporary import with partidas of its own
    if not any(r["fraccion"] == line["fraccion"] for r in family.rows):
        known = ", ".join(sorted({r["fraccion"] or "" for r in family.rows}))
        return [warning("IMMEX-DISCHARGE-FRACCION", f"{who}: la fracción {line['fraccion']} no está en el pedimento "
                        f"original {family.label} (fracciones importadas: {known}).", **where)]
    deadline = family.deadline(line["fraccion"])
    if deadline and line["discharged_on"] and line["discharged_on"] > deadline:
        return [warning("IMMEX-DISCHARGE-LATE", f"{who}: descarga la fracción {line['fraccion']} el "
                        f"{line['discharged_on']}, después del plazo de retorno del pedimento original {family.label} "
                        f"({deadline}): la mercancía pudo haberse vuelto importación definitiva.", **where)]
    return []


def _over_discharge(store: Store, family: Family, fraccion: str | None) -> list[Finding]:
    if not family.rows or not any(r["fraccion"] == fraccion for r in family.rows):
        return []
    imported, total = family.imported(fraccion), discharged(store, family).get(fraccion, Decimal(0))
    if total <= imported:
        return []
    return [warning("IMMEX-OVER-DISCHARGE", f"Pedimento original {family.label}, fracción {fraccion}: los descargos "
                    f"recibidos suman {plain(total)}, más de lo importado ({plain(imported)} en UMT): excedente "
                    f"{plain(total - imported)}.",
                    record="512", original=family.key, fraccion=fraccion)]


# rows of a normalised record --------------------------------------------------------------------------------

def import_rows(record: dict[str, Any], business_key: str) -> list[dict[str, Any]]:
    """One row per partida carrying a return clock (a temporary import); none otherwise."""
    corrects = ((record.get("rectification") or {}).get("corrects") or {}).get("key") \
        if record.get("clave") == "R1" else None
    clave = record.get("clave")
    rows = []
    for position, partida in enumerate(record.get("partidas") or [], start=1):
        clock = partida.get("return_clock")
        if not clock:
            continue
        rows.append({"partida": position, "pedimento_key": business_key, "corrects_key": corrects,
                     "printed": record.get("printed_number"), "clave": clave, "fraccion": partida.get("fraccion"),
                     "description": partida.get("description"), "umt": partida.get("umt"),
                     "quantity": partida.get("umt_quantity"), "start_date": clock.get("start_date"),
                     "deadline": clock.get("return_deadline"), "basis": clock.get("basis") or ""})
    return rows


def discharge_rows(record: dict[str, Any], business_key: str) -> list[dict[str, Any]]:
    """One row per 512 whose original can be named (a malformed number is rejected by the rules first)."""
    on = discharge_date(record)
    corrects = ((record.get("rectification") or {}).get("corrects") or {}).get("key") \
        if record.get("clave") == "R1" else None
    rows = []
    for line, discharge in enumerate(record.get("discharges") or [], start=1):
        key = discharge.get("original_key") or original_key(discharge, on)
        if key is None:
            continue
        rows.append({"line": line, "discharge_key": business_key, "corrects_key": corrects, "original_key": key,
                     "fraccion": discharge.get("fraccion"), "unit": discharge.get("unit"),
                     "quantity": discharge.get("quantity"), "discharged_on": on.isoformat() if on else None})
    return rows


def _link(store: Store, discharge_id: str, lines: list[dict[str, Any]]) -> None:
    """``discharges`` from the discharge to each original in the store, ``discharged-by`` back."""
    for key in sorted({line["original_key"] for line in lines}):
        targets = [d for d in store.find_by_business_key(key, "pedimento")
                   if d.state in ("normalised", "pending", "ready", "forwarded")]
        if not targets:  # only its rectification is here
            family = family_of(store, key)
            found = store.get(family.rows[0]["document_id"]) if family.rows else None
            targets = [found] if found is not None else []
        for target in targets:
            if target.id != discharge_id:
                store.add_link(discharge_id, target.id, "discharges")
                store.add_link(target.id, discharge_id, "discharged-by")


def _printed(key: str | None) -> str:
    parts = (key or "").split("-")
    if len(parts) == 4 and parts[0].isdigit():
        printed = numbers(int(parts[0]), parts[1], parts[2], parts[3])[1]
        if printed:
            return printed
    return key or "?"


def as_decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def plain(number: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros after the point."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
