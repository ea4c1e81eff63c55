"""SAT Data Stage ("glosa"): a ZIP of ``<folio>_<reg>.asc`` files, one per record type, joined into pedimentos.

Rows are streamed into a temporary SQLite staging file (never into dicts), indexed by (patente,
pedimento, sección), and read back one pedimento at a time, so memory stays flat however large the set.
Each pedimento becomes a part: a small text holding that pedimento's original rows with their file
headers and row numbers, which :func:`records_from_part` turns into the same records an M file gives.
Headers drive the reading: column order and case, CRLF/LF, a trailing ``|`` and both date forms
(``YYYY-MM-DD HH:MM:SS`` and ``YYYY/MM/DD HH:MM:SS``) are tolerated.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway import zipcheck
from gateway.findings import Finding, error, warning
from gateway.kinds.pedimento.layout import LAYOUTS
from gateway.kinds.pedimento.normalise import Rec
from gateway.limits import LimitExceeded, current

MEMBER = re.compile(r"^(?:.*/)?(?P<folio>[^/_]+)_(?P<reg>\d{3}|inci|sel|seleccion|resumen)\.asc$", re.IGNORECASE)
KEY = ("patente", "pedimento", "seccionaduanera")
REQUIRED = ("501", "551")
#: the record files of a SAT Data Stage set (with _Sel, _Inci and _Resumen: 26 files); loose files of a
#: folio are held until every one of them has arrived
FULL_SET = ("501", "502", "503", "504", "505", "506", "507", "508", "509", "510", "511", "512", "520", "551", "552",
            "553", "554", "555", "556", "557", "558", "701", "702")
PART_MAGIC = b"DATASTAGE|"

#: Data Stage column (lower case) → M-file field name, per record type (reference §3)
COLUMNS: dict[str, dict[str, str]] = {
    "501": {"tipooperacion": "tipo_operacion", "clavedocumento": "clave_pedimento",
            "seccionaduaneraentrada": "aduana_entrada_salida", "curpcontribuyente": "curp", "rfc": "rfc",
            "curpagentea": "curp_agente", "tipocambio": "tipo_cambio", "totalfletes": "fletes",
            "totalseguros": "seguros", "totalembalajes": "embalajes", "totalincrementables": "otros_incrementables",
            "totaldeducibles": "uso_futuro", "pesobrutomercancia": "peso_bruto",
            "mediotransportesalida": "medio_transporte_salida", "mediotransportearribo": "medio_transporte_arribo",
            "mediotransporteentrada_salida": "medio_transporte_entrada_salida", "destinomercancia": "destino",
            "nombrecontribuyente": "nombre", "callecontribuyente": "calle",
            "numinteriorcontribuyente": "num_interior", "numexteriorcontribuyente": "num_exterior",
            "cpcontribuyente": "cp", "municipiocontribuyente": "municipio", "entidadfedcontribuyente": "entidad",
            "paiscontribuyente": "pais"},
    "505": {"fechafacturacion": "fecha", "numerofactura": "documento", "terminofacturacion": "incoterm",
            "monedafacturacion": "moneda", "valordolares": "valor_usd", "valormonedaextranjera": "valor_moneda",
            "paisfacturacion": "pais", "entidadfedfacturacion": "entidad", "indentfiscalproveedor": "id_fiscal",
            "proveedormercancia": "nombre", "calleproveedor": "calle", "numinteriorproveedor": "num_interior",
            "numexteriorproveedor": "num_exterior", "cpproveedor": "cp", "municipioproveedor": "municipio"},
    "506": {"tipofecha": "tipo_fecha", "fechaoperacion": "fecha"},
    "507": {"clavecaso": "clave", "indentificadorcaso": "complemento1", "identificadorcaso": "complemento1",
            "complementocaso": "complemento2"},
    "509": {"clavecontribucion": "contribucion", "tasacontribucion": "tasa", "tipotasa": "tipo_tasa"},
    "510": {"clavecontribucion": "contribucion", "formapago": "forma_pago", "importepago": "importe"},
    "512": {"patenteaduanalorig": "patente_original", "pedimentooriginal": "pedimento_original",
            "seccionaduaneradesporig": "aduana_original", "documentooriginal": "clave_original",
            "fechaoperacionorig": "fecha_pago_original", "fraccionoriginal": "fraccion", "unidadmedida": "unidad",
            "mercanciadescargada": "cantidad"},
    "551": {"fraccion": "fraccion", "secuenciafraccion": "partida", "subdivisionfraccion": "nico",
            "descripcionmercancia": "descripcion", "preciounitario": "precio_unitario", "valoraduana": "valor_aduana",
            "valorcomercial": "valor_comercial", "valordolares": "valor_usd", "cantidadumcomercial": "cantidad_umc",
            "unidadmedidacomercial": "umc", "cantidadumtarifa": "cantidad_umt", "unidadmedidatarifa": "umt",
            "valoragregado": "valor_agregado", "clavevinculacion": "vinculacion",
            "metodovalorizacion": "metodo_valoracion", "codigomercanciaproducto": "codigo_producto",
            "marcamercanciaproducto": "marca", "modelomercanciaproducto": "modelo",
            "paisorigendestino": "pais_origen_destino", "paiscompradorvendedor": "pais_vendedor_comprador",
            "entidadfedorigen": "entidad_origen", "entidadfeddestino": "entidad_destino",
            "entidadfedcomprador": "entidad_comprador", "entidadfedvendedor": "entidad_vendedor"},
    "553": {"fraccion": "fraccion", "secuenciafraccion": "partida", "clavepermiso": "clave_permiso",
            "firmadescargo": "firma_descargo", "numeropermiso": "numero_permiso",
            "valorcomercialdolares": "valor_usd", "cantidadmercanciaumt": "cantidad"},
    "554": {"fraccion": "fraccion", "secuenciafraccion": "partida", "clavecaso": "clave",
            "identificadorcaso": "complemento1", "indentificadorcaso": "complemento1",
            "complementocaso": "complemento2"},
    "556": {"fraccion": "fraccion", "secuenciafraccion": "partida", "clavecontribucion": "contribucion",
            "tasacontribucion": "tasa", "tipotasa": "tipo_tasa"},
    "557": {"fraccion": "fraccion", "secuenciafraccion": "partida", "clavecontribucion": "contribucion",
            "formapago": "forma_pago", "importepago": "importe"},
}
#: columns that are not data of the pedimento itself (post-validation facts go to ``origin``)
_META = {"fechapagoreal", "tipopedimento", "fechavalidacionpagor", "fecharecepcionpedimento", "tipooperacion",
         "clavedocumento"}
_DATE = re.compile(r"^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")


#: what a damaged or truncated ZIP raises while it is listed or read
_DAMAGED = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError)


def is_member_name(filename: str) -> bool:
    return MEMBER.match(filename.strip()) is not None


def split_row(line: str, width: int | None = None) -> list[str]:
    fields = line.split("|")
    if fields and fields[-1] == "" and (width is None or len(fields) == width + 1):
        fields.pop()  # every Data Stage row ends with "|"
    return fields


def _date8(value: str) -> str:
    match = _DATE.match(value.strip())
    return "".join(match.groups()) if match else value.strip()


# the container: ZIP (or one loose file) → staging → one part per pedimento ----------------------------------

class Staging:
    """Rows of a Data Stage set in a temporary SQLite file, keyed for the join."""

    def __init__(self, directory: Path | None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix="datastage-", suffix=".sqlite", dir=directory)
        os.close(fd)
        self.db = sqlite3.connect(self.path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
                              "CREATE TABLE rows (reg TEXT, patente TEXT, pedimento TEXT, seccion TEXT,"
                              " rowno INTEGER, line TEXT);")
        self.headers: dict[str, tuple[str, str]] = {}  # reg → (file name, header line)
        self.lines = 0  # lines read from every file of the set, blank ones too (limits.max_rows)

    def close(self) -> None:
        self.db.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass


def stage_member(staging: Staging, name: str, reg: str, stream: io.BufferedIOBase,
                 findings: list[Finding]) -> int:
    """Stream one ``.asc`` file into the staging table; report header, width and truncation problems.

    Lines are read with a bounded ``readline`` (limits.max_line_length) and counted (limits.max_rows), so a
    member that expands to one endless line or to millions of blank lines stops at the limit."""
    text = _bounded_lines(stream, name, staging)
    header_line = next(text, "")
    header = split_row(header_line.rstrip("\r\n"))
    lower = [h.strip().lower() for h in header]
    if not all(k in lower for k in KEY):
        findings.append(error("PED-LAYOUT", f"{name}: la primera línea debe ser el encabezado con las columnas "
                              "Patente|Pedimento|SeccionAduanera.", file=name, row=1))
        return 0
    width = len(header)
    known = COLUMNS.get(reg, {})
    if known:
        missing = [c for c in set(known.values()) if c not in {known.get(h) for h in lower}]
        if missing and reg in REQUIRED:
            findings.append(warning("PED-LAYOUT", f"{name}: faltan columnas en el encabezado "
                                    f"({', '.join(sorted(missing))}).", file=name, row=1))
    staging.headers[reg] = (name, header_line.rstrip("\r\n"))
    ip, iped, isec = (lower.index(k) for k in KEY)
    batch: list[tuple[str, str, str, str, int, str]] = []
    rowno, count = 1, 0
    for raw in text:
        rowno += 1
        ended = raw.endswith("\n")
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        fields = split_row(line, width)
        if len(fields) != width:
            what = "está truncada (el archivo termina a media fila)" if not ended else \
                f"tiene {len(fields)} columnas y el encabezado {width}"
            findings.append(error("PED-LAYOUT", f"{name}, fila {rowno}: {what}.", file=name, row=rowno))
            continue
        batch.append((reg, fields[ip].strip(), fields[iped].strip(), fields[isec].strip(), rowno, line))
        count += 1
        if len(batch) >= 5000:
            staging.db.executemany("INSERT INTO rows VALUES (?,?,?,?,?,?)", batch)
            batch.clear()
    if batch:
        staging.db.executemany("INSERT INTO rows VALUES (?,?,?,?,?,?)", batch)
    return count


def _bounded_lines(stream: Any, name: str, staging: Staging) -> Iterator[str]:
    limits = current()
    longest, rows = limits.max_line_length, limits.max_rows
    number = 0
    while True:
        raw = stream.readline(longest + 1)
        if not raw:
            return
        number += 1
        staging.lines += 1
        if len(raw) > longest and not raw.endswith(b"\n"):
            raise LimitExceeded("max_line_length", file=name, row=number)
        if staging.lines > rows:
            raise LimitExceeded("max_rows", staging.lines, file=name, row=number)
        yield raw.decode("utf-8", "replace").replace("\r\n", "\n")


def members(data: bytes, filename: str, findings: list[Finding]) -> Iterator[tuple[str, str, str, Any]]:
    """(name, folio, reg, opener) of each Data Stage file in a ZIP, or the loose file itself."""
    if data[:4] == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except _DAMAGED as exc:
            findings.append(error("PED-LAYOUT", f"El ZIP del Data Stage está dañado o truncado ({exc})."))
            return
        problem = zipcheck.check(archive, "El ZIP del Data Stage")
        if problem is not None:
            findings.append(problem)
            return
        for info in archive.infolist():
            match = MEMBER.match(info.filename)
            if info.is_dir() or match is None:
                continue
            yield info.filename.rsplit("/", 1)[-1], match["folio"], match["reg"].lower(), \
                (lambda info=info: archive.open(info))
        return
    match = MEMBER.match(filename.split("#", 1)[0].strip())
    folio, reg = (match["folio"], match["reg"].lower()) if match else ("", "")
    if not reg:
        header = data[:300].split(b"\n", 1)[0].decode("utf-8", "replace").lower()
        reg = "551" if "secuenciafraccion" in header and "descripcionmercancia" in header else \
            "501" if "clavedocumento" in header and "tipocambio" in header else ""
    yield filename, folio, reg, (lambda: io.BytesIO(data))


def folder_members(folder: Path) -> Iterator[tuple[str, str, str, Any]]:
    """The files of a folio held in the staging area, as :func:`members` gives those of a ZIP."""
    for path in sorted(folder.iterdir()):
        match = MEMBER.match(path.name)
        if match is not None:
            yield path.name, match["folio"], match["reg"].lower(), (lambda path=path: path.open("rb"))


def hold_member(data: bytes, filename: str, staging_dir: Path, findings: list[Finding]) -> tuple[str, Path,
                                                                                                 list[str]] | None:
    """Check one loose ``.asc`` file on its own and keep it with the other files of its folio.

    Returns (folio, its folder, the record files still missing), or None when the file itself is bad.
    Writing is atomic and idempotent: a file processed again replaces itself.
    """
    base = filename.rsplit("/", 1)[-1].split("#", 1)[0].strip()
    match = MEMBER.match(base)
    if match is None:
        return None
    folio, reg = match["folio"], match["reg"].lower()
    probe = Staging(None)
    try:
        before = len(findings)
        rows = stage_member(probe, base, reg, io.BytesIO(data), findings)
        if any(f.severity.value == "error" for f in findings[before:]):
            return None
    finally:
        probe.close()
    folder = staging_dir / "sets" / folio
    done = folder / ".split-by"
    if done.exists() and done.read_text(encoding="utf-8") != base:
        findings.append(error("PED-SEQUENCE", f"{base} llegó después de que el Data Stage del folio {folio} se "
                              f"procesó con los archivos recibidos (lo completó {done.read_text(encoding='utf-8')}). "
                              "Entregue el folio completo en un ZIP."))
        return None
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"{folio}_{reg}.asc", data)
    empties = staging_dir / "sets" / "_empty"
    if rows == 0:  # SAT's header-only files are byte-identical across folios: the gateway sees them once
        empties.mkdir(parents=True, exist_ok=True)
        _write(empties / f"{reg}.asc", data)
    present = {m["reg"].lower() for p in folder.iterdir() if (m := MEMBER.match(p.name))}
    present |= {p.stem for p in empties.iterdir()} if empties.is_dir() else set()
    missing = [r for r in FULL_SET if r not in present]
    if not missing:
        _write(done, base.encode("utf-8"))
    return folio, folder, missing


def _write(target: Path, data: bytes) -> None:
    temporary = target.with_name(target.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def split_set(data: bytes, filename: str, findings: list[Finding], record: dict[str, Any],
              staging_dir: Path | None, folder: Path | None = None) -> Iterator[tuple[bytes, str]]:
    """Stage every file of the set (a ZIP, one loose file, or a folio's held files), check it is complete,
    then yield (part bytes, label) per pedimento."""
    staging = Staging(staging_dir)
    try:
        folios: set[str] = set()
        files: dict[str, int] = {}
        sources = folder_members(folder) if folder is not None else members(data, filename, findings)
        for name, folio, reg, opener in sources:
            if not reg.isdigit():
                continue  # Sel, Inci, Resumen: selection and summary facts, not part of the declaration
            if reg not in LAYOUTS:
                findings.append(warning("PED-LAYOUT", f"{name}: registro {reg} desconocido; se ignora.", file=name))
                continue
            folios.add(folio)
            try:
                with opener() as stream:
                    files[reg] = files.get(reg, 0) + stage_member(staging, name, reg, stream, findings)
            except _DAMAGED as exc:
                findings.append(error("PED-LAYOUT", f"{name}: el archivo está dañado o truncado en el ZIP ({exc}).",
                                      file=name))
        record.update({"format": "datastage", "folio": ",".join(sorted(f for f in folios if f)) or None,
                       "files": dict(sorted(files.items()))})
        missing = [reg for reg in REQUIRED if reg not in files]
        if missing:
            findings.append(error("PED-SEQUENCE", "El Data Stage está incompleto: faltan los archivos "
                                  f"{', '.join(f'_{m}.asc' for m in missing)}. Entregue el ZIP completo, o todos "
                                  "los archivos del folio juntos en un ZIP."))
            return
        staging.db.execute("CREATE INDEX rows_key ON rows (patente, pedimento, seccion)")
        orphans = staging.db.execute(
            "SELECT reg, COUNT(*) FROM rows r WHERE reg != '501' AND NOT EXISTS (SELECT 1 FROM rows k WHERE "
            "k.reg = '501' AND k.patente = r.patente AND k.pedimento = r.pedimento AND k.seccion = r.seccion) "
            "GROUP BY reg ORDER BY reg").fetchall()
        for reg, count in orphans:
            findings.append(error("PED-SEQUENCE", f"{count} fila(s) del archivo {reg} pertenecen a pedimentos que "
                                  "no están en el archivo 501.", record=reg))
        if orphans:
            return
        keys = staging.db.cursor().execute("SELECT patente, pedimento, seccion FROM rows WHERE reg = '501' "
                                  "GROUP BY patente, pedimento, seccion ORDER BY MIN(rowid)")
        count = 0
        for patente, pedimento, seccion in _iter(keys):
            rows = staging.db.execute("SELECT reg, rowno, line FROM rows WHERE patente = ? AND pedimento = ? AND "
                                      "seccion = ? ORDER BY reg, rowid", (patente, pedimento, seccion)).fetchall()
            out = [f"DATASTAGE|{record['folio'] or ''}|{patente}|{pedimento}|{seccion}"]
            for reg in dict.fromkeys(r[0] for r in rows):
                name, header = staging.headers[reg]
                out.append(f"H|{reg}|{name}|{header}")
                out.extend(f"R|{reg}|{rowno}|{line}" for r_reg, rowno, line in rows if r_reg == reg)
            count += 1
            yield ("\n".join(out) + "\n").encode("utf-8"), f"pedimento {patente}-{pedimento} ({seccion})"
        record["pedimentos"] = count
    finally:
        staging.close()


def _iter(cursor: sqlite3.Cursor) -> Iterator[tuple[str, str, str]]:
    """Keys one by one from a separate cursor (the key list itself may be large)."""
    while batch := cursor.fetchmany(500):
        yield from batch


# one pedimento's part → records --------------------------------------------------------------------------

def records_from_part(data: bytes, findings: list[Finding]) -> tuple[list[Rec], dict[str, Any]]:
    """The part text (see :func:`split_set`) → records in M-file order, and the post-validation facts."""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    first = lines[0].split("|") if lines else []
    folio, patente, pedimento, seccion = (first + [""] * 5)[1:5]
    headers: dict[str, tuple[str, list[str]]] = {}
    header_recs: list[Rec] = []
    partida_recs: dict[str, list[Rec]] = {}
    partida_order: list[str] = []
    origin: dict[str, Any] = {"format": "datastage", "folio": folio or None}
    for line in lines[1:]:
        kind, _, rest = line.partition("|")
        if kind == "H":
            reg, name, header = rest.split("|", 2)
            headers[reg] = (name, [h.strip().lower() for h in split_row(header)])
            continue
        if kind != "R":
            findings.append(error("PED-LAYOUT", f"Línea inesperada en la parte del Data Stage: {line[:40]!r}."))
            continue
        reg, rowno, row = rest.split("|", 2)
        name, columns = headers.get(reg, ("", []))
        fields = split_row(row, len(columns))
        where = {"file": name, "row": int(rowno) if rowno.isdigit() else rowno, "record": reg}
        if len(fields) != len(columns):
            findings.append(error("PED-LAYOUT", f"{name}, fila {rowno}: {len(fields)} columnas y el encabezado "
                                  f"tiene {len(columns)}.", **where))
            continue
        by_name = dict(zip(columns, (f.strip() for f in fields), strict=True))
        rec = _rec(reg, by_name, pedimento, patente, seccion, where)
        if reg == "501":
            origin.update({"payment_real_at": _iso(by_name.get("fechapagoreal")),
                           "received_at": _iso(by_name.get("fecharecepcionpedimento")),
                           "tipo_pedimento": by_name.get("tipopedimento") or None})
        if reg in {"551", "552", "553", "554", "555", "556", "557", "558"}:
            partida = by_name.get("secuenciafraccion", "")
            if reg == "551" and partida not in partida_recs:
                partida_order.append(partida)
            partida_recs.setdefault(partida, []).append(rec)
        else:
            header_recs.append(rec)
    records = header_recs
    for partida in partida_order + [p for p in partida_recs if p not in partida_order]:
        records.extend(sorted(partida_recs[partida], key=lambda r: r.type != "551"))
    return records, origin


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    match = _DATE.match(value.strip())
    return value.strip().replace("/", "-").replace(" ", "T") if match else value.strip()


def _rec(reg: str, row: dict[str, str], pedimento: str, patente: str, seccion: str,
         where: dict[str, Any]) -> Rec:
    layout = LAYOUTS.get(reg)
    mapping = COLUMNS.get(reg)
    if layout is None or not layout.confirmed or mapping is None:
        skip = set(KEY) | _META
        rest = [v for k, v in row.items() if k not in skip]
        if reg == "701":
            rest = [patente, pedimento, seccion] + rest
        elif reg in {"552", "555", "558", "560"}:
            rest = [pedimento] + [row.get("fraccion", ""), row.get("secuenciafraccion", "")] + \
                [v for k, v in row.items() if k not in skip | {"fraccion", "secuenciafraccion"}]
        else:
            rest = [pedimento] + rest
        return Rec(reg, verbatim=rest, location=where)
    values = {"pedimento": pedimento}
    if reg == "501":
        values.update(patente=patente, aduana_seccion=seccion, tipo_operacion=row.get("tipooperacion", ""),
                      clave_pedimento=row.get("clavedocumento", ""))
    for column, value in row.items():
        name = mapping.get(column)
        if name and name not in values:
            values[name] = value
    for spec in layout.fields:
        if spec.type == "F" and values.get(spec.name):
            values[spec.name] = _date8(values[spec.name])
    return Rec(reg, values, location=where)
