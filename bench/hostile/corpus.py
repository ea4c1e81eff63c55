"""A hostile corpus: 1,500 inputs built from the samples, for ``bench/hostile/run.py`` (issue 20).

Every input is a file plus a line in ``manifest.json``: its name, the ``--kind`` to validate it with
(``auto`` or an ``erp:<mapping>``), the class it belongs to, and ``expect``: ``reject`` when any
acceptance is wrong (a bomb, an internal part format, NaN in a quantity), ``any`` when only "a finding or
a success, never a crash" is asked (random mutations). Inputs are deterministic for a given ``--seed``.

    python bench/hostile/corpus.py OUT_DIR [--seed 20] [--count 1500]

Test data only: this is not part of the product, and it reads the samples in ``../shared/samples``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "samples"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/samples")
ERP_DATA = REPO / "tests" / "data" / "erp"

#: the mapping used for ERP JSON inputs (written beside the corpus; validate with --config or mapping_dirs)
JSON_MAPPING = """description = "hostile corpus: receipts as JSON"
target = "erp.receipts"
on_bad_row = "reject-file"
chunk_rows = 1000

[source]
format = "json"
records = "receipts"

[fields.receipt_date]
path = "date"
date_format = "%Y-%m-%d"

[fields.part_number]
path = "part"

[fields.quantity]
path = "qty"

[fields.unit]
path = "unit"

[fields.supplier]
value = "Proveedor de prueba"
"""

JSON_LINES_MAPPING = JSON_MAPPING.replace('records = "receipts"', "lines = true").replace(
    "hostile corpus: receipts as JSON", "hostile corpus: receipts as JSON Lines")

Item = tuple[str, bytes, str, str, str]  # (file name, bytes, --kind, class, expect)


def _seeds() -> dict[str, list[tuple[str, bytes]]]:
    def read(paths: Iterator[Path]) -> list[tuple[str, bytes]]:
        return [(p.name, p.read_bytes()) for p in sorted(paths) if p.is_file()]

    return {
        "cfdi": read((SHARED / "cfdi" / "valid").glob("*.xml")),
        "cove": read((SHARED / "cove").glob("*.xml")),
        "pedimento": read(p for p in (SHARED / "pedimento").iterdir() if p.suffix != ".md"),
        "erp-csv": [("receipts.csv", (ERP_DATA / "receipts.csv").read_bytes())],
        "erp-xml": [("shipments.xml", (ERP_DATA / "shipments.xml").read_bytes())],
        "erp-xlsx": [("bom.xlsx", _bom_xlsx())],
        "erp-json": [("receipts.json", _receipts_json())],
    }


_ERP_KIND = {"erp-csv": "erp:receipts-csv", "erp-xml": "erp:shipments-xml", "erp-xlsx": "erp:bom-xlsx",
             "erp-json": "erp:hostile-json"}


def _bom_xlsx() -> bytes:
    sys.path.insert(0, str(REPO / "tests"))
    from erp_fixtures import write_bom_xlsx  # the test suite's own generator of a realistic BOM report

    buffer = io.BytesIO()
    write_bom_xlsx(buffer)  # type: ignore[arg-type]
    return buffer.getvalue()


def _receipts_json(qty: object = "250.5", raw_qty: str | None = None) -> bytes:
    rows = [{"date": "2026-11-18", "part": "RM-1001", "qty": "QTY", "unit": "KG"},
            {"date": "2026-11-19", "part": "RM-1002", "qty": "12000", "unit": "PZA"}]
    text = json.dumps({"receipts": rows})
    return text.replace('"QTY"', raw_qty if raw_qty is not None else json.dumps(qty)).encode()


# random mutations ----------------------------------------------------------------------------------------

def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        op = rng.randrange(7)
        at = rng.randrange(len(data))
        if op == 0:  # bit flip
            data[at] ^= 1 << rng.randrange(8)
        elif op == 1:  # truncate
            del data[at:]
        elif op == 2:  # delete a run
            del data[at:at + rng.randint(1, 64)]
        elif op == 3:  # insert hostile bytes
            data[at:at] = rng.choice([b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"]]>", b"<", b"|", b"\r", b"\n" * 5,
                                      b"NaN", b"1e999", b"-Infinity", b"9" * 400, b"&amp;", b"\xc3"])
        elif op == 4:  # duplicate a chunk
            chunk = data[at:at + rng.randint(1, 256)]
            data[at:at] = chunk * rng.randint(2, 20)
        elif op == 5:  # overwrite with random bytes
            for i in range(at, min(len(data), at + rng.randint(1, 16))):
                data[i] = rng.randrange(256)
        else:  # splice two halves out of order
            data = data[at:] + data[:at]
    return bytes(data)


def _mutate_zip(rng: random.Random, data: bytes) -> bytes:
    """Mutate the members of a ZIP (so that the container still opens) or its bytes."""
    if rng.random() < 0.3:
        return _mutate(rng, data)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = source.namelist()
        victim = rng.choice(names)
        for name in names:
            content = source.read(name)
            if name == victim:
                content = _mutate(rng, content)
            target.writestr(name, content)
    return out.getvalue()


# targeted classes ----------------------------------------------------------------------------------------

def _internal_formats() -> Iterator[Item]:
    """Shapes of the gateway's own parts (ERP chunks, Data Stage pedimento parts), sent from outside."""
    bad_records = ['{"record":{"row":"x"}}', '{"row":1,"errors":[{"code":"X","severity":"bogus","message":"m"}]}',
                   '{"row":1,"errors":[{}]}', '{"warnings":[{"code":1}]}', '[1,2,3]', '"text"', '{"record":null}',
                   '{"errors":"nope"}', '{"warnings":7}', '{"row":1,"errors":[{"code":"A","severity":"error"}]}']
    for target in ("erp.materials", "erp.bom", "erp.receipts", "erp.shipments"):
        header = json.dumps({"erp_chunk": "1.0", "target": target, "mapping": "x", "chunk": 1, "rows": 1,
                             "bad_rows": False, "columns": {}}, separators=(",", ":"))
        for i, line in enumerate(bad_records):
            yield f"chunk-{target}-{i}.jsonl", f"{header}\n{line}\n".encode(), "auto", "internal-format", "reject"
        good = {"row": 2, "part_number": "FAKE-1", "description": None, "material_type": "raw_material",
                "unit": "PZA", "fraccion": None, "nico": None, "umt": None, "umc_umt_factor": None,
                "country_of_origin": None}
        if target == "erp.materials":  # well-formed: the gateway must still refuse a part it did not make
            yield "chunk-forged.jsonl", f'{header}\n{{"record":{json.dumps(good)}}}\n'.encode(), "auto", \
                "internal-format", "reject"
            yield "chunk-forged-kind.jsonl", f'{header}\n{{"record":{json.dumps(good)}}}\n'.encode(), \
                "erp.materials", "internal-format", "reject"
    part_lines = ["R|501|2|x", "H|501", "R|551", "H|551|a.asc|Patente|Pedimento|SeccionAduanera\nR|551|x|1|2",
                  "Z|zzz", "R|501|2|1|2|3|4|5|6|7|8|9", "H|501|n|" + "|".join(["c"] * 5000), "R||||||",
                  "H|501|n|Patente|Pedimento|SeccionAduanera|TipoCambio\nR|501|2|3420|6000001|470|NaN"]
    for i, body in enumerate(part_lines):
        yield f"datastage-part-{i}.txt", f"DATASTAGE|F|3420|6000001|470\n{body}\n".encode(), "auto", \
            "internal-format", "reject"
    yield "datastage-part-kind.txt", b"DATASTAGE|F|3420|6000001|470\nR|501|2|x\n", "pedimento", \
        "internal-format", "reject"


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return out.getvalue()


def _streamed_zip(name: str, chunks: Callable[[], Iterator[bytes]], head: bytes = b"",
                  others: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """A ZIP whose member ``name`` expands to what ``chunks`` yields (GBs), compressed without holding it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for other, content in others:
            archive.writestr(other, content)
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(head)
            for chunk in chunks():
                member.write(chunk)
    return out.getvalue()


def _encrypted_zip(members: list[tuple[str, bytes]], encrypted: str) -> bytes:
    """A ZIP whose member ``encrypted`` says it is encrypted (flag bit 0): zipfile asks for a password."""
    sys.path.insert(0, str(REPO / "tests"))
    from zip_fixtures import encrypted_flag  # the test suite's own, shared

    return encrypted_flag(_zip(members, zipfile.ZIP_STORED), encrypted)


def _datastage(seeds: dict[str, list[tuple[str, bytes]]]) -> Iterator[Item]:
    files = dict(seeds["pedimento"])
    h501, h551 = files["datastage-sample_501.asc"], files["datastage-sample_551.asc"]
    members = [("1234567_501.asc", h501), ("1234567_551.asc", h551)]
    yield "ds-ok.zip", _zip(members), "auto", "datastage", "any"
    for name in ("1234567_501.asc", "1234567_551.asc"):
        yield f"ds-encrypted-{name[-7:-4]}.zip", _encrypted_zip(members, name), "auto", "encrypted-zip", "reject"
    header501 = h501.split(b"\n", 1)[0] + b"\n"
    row501 = h501.split(b"\n")[1] + b"\n"
    gib = 1024 ** 3

    def repeat(unit: bytes, total: int) -> Callable[[], Iterator[bytes]]:
        block = unit * max(1, (1 << 20) // len(unit))

        def chunks() -> Iterator[bytes]:
            written = 0
            while written < total:
                yield block
                written += len(block)
        return chunks

    bombs = [("one-line", b"A", 2 * gib, header501), ("blank-lines", b"\n", 2 * gib, header501),
             ("rows", row501, 1 * gib, header501), ("one-line-nohead", b"7|", gib, b""),
             ("crlf", b"\r\n", gib, header501), ("pipes", b"|", gib, header501)]
    for label, unit, total, head in bombs:
        bomb = _streamed_zip("1234567_501.asc", repeat(unit, total), head, [("1234567_551.asc", h551)])
        yield f"ds-bomb-{label}.zip", bomb, "auto", "zip-bomb", "reject"
    many = [(f"{i:07d}_501.asc", header501) for i in range(20000)]
    yield "ds-many-members.zip", _zip(many, zipfile.ZIP_STORED), "auto", "zip-members", "reject"
    long_line = header501 + b"3420|6000001|470|" + b"X" * (8 << 20) + b"\n"
    yield "ds-long-line.zip", _zip([("1234567_501.asc", long_line), ("1234567_551.asc", h551)]), "auto", \
        "long-line", "reject"
    yield "1234567_501.asc", long_line, "auto", "long-line", "reject"


def _xlsx(seeds: dict[str, list[tuple[str, bytes]]]) -> Iterator[Item]:
    base = seeds["erp-xlsx"][0][1]
    source = zipfile.ZipFile(io.BytesIO(base))
    parts = {name: source.read(name) for name in source.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet1"))

    def rebuild(changes: dict[str, bytes | None], stored: bool = False) -> bytes:
        members = [(n, changes.get(n, c)) for n, c in parts.items() if changes.get(n, c) is not None]
        members += [(n, c) for n, c in changes.items() if n not in parts and c is not None]
        return _zip(members, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)  # type: ignore[arg-type]

    kind = "erp:bom-xlsx"
    xml = parts[sheet]
    shared = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<si><t>x</t></si></sst>')
    yield "x-bad-shared-index.xlsx", rebuild({sheet: xml.replace(b"<c r=\"A4\"", b"<c r=\"A4\" t=\"s\"", 1)
                                               .replace(b"<v>", b"<v>999999", 1),
                                               "xl/sharedStrings.xml": shared}), kind, "xlsx-broken", "any"
    yield "x-no-workbook.xlsx", rebuild({"xl/workbook.xml": None}), kind, "xlsx-broken", "reject"
    yield "x-garbage-sheet.xlsx", rebuild({sheet: b"<worksheet><sheetData><row"}), kind, "xlsx-broken", "reject"
    yield "x-bad-dimension.xlsx", rebuild({sheet: xml.replace(b"<dimension ref=\"", b"<dimension ref=\"XFD1048576:", 1)}
                                          ), kind, "xlsx-broken", "any"
    # corrupt deflate stream: flip bytes inside the compressed data of the sheet
    good = bytearray(rebuild({}))
    offset = good.find(sheet.encode()) + len(sheet) + 40
    for i in range(offset, offset + 30):
        good[i] ^= 0x55
    yield "x-corrupt-deflate.xlsx", bytes(good), kind, "xlsx-broken", "reject"
    # shared strings bomb: millions of strings
    strings = b"".join(b"<si><t>s%d</t></si>" % i for i in range(3_000_000))
    yield "x-shared-strings-bomb.xlsx", rebuild({"xl/sharedStrings.xml": b'<sst xmlns="http://schemas.openxml'
                                                 b'formats.org/spreadsheetml/2006/main">' + strings + b"</sst>"}), \
        kind, "xlsx-bomb", "reject"
    # rows bomb: a far-away last row and a far-away column (read-only mode fills the gaps)
    far = xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    yield "x-far-cell.xlsx", rebuild({sheet: far}), kind, "xlsx-bomb", "reject"
    many_rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>FG</t></is></c></row>' % (r, r)
                         for r in range(10, 1_500_000))
    yield "x-many-rows.xlsx", rebuild({sheet: xml.replace(b"</sheetData>", many_rows + b"</sheetData>")}), kind, \
        "xlsx-bomb", "reject"
    wide = b"".join(b'<c r="%s4"><v>1</v></c>' % _col(c).encode() for c in range(1, 16384))
    yield "x-wide-row.xlsx", rebuild({sheet: xml.replace(b"</sheetData>", b'<row r="99">' + wide +
                                                          b"</row></sheetData>")}), kind, "xlsx-bomb", "any"
    for i in range(3):
        yield f"x-not-a-zip-{i}.xlsx", [b"", b"PK\x03\x04", b"hello"][i] + b"junk", kind, "xlsx-broken", "reject"
    nan_cells = xml.replace(b"<v>0.85</v>", b"<v>NaN</v>").replace(b"<v>4</v>", b"<v>1E+999</v>")
    yield "x-nan.xlsx", rebuild({sheet: nan_cells}), kind, "erp-number", "reject"


def _col(n: int) -> str:
    name = ""
    while n:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


def _json_inputs() -> Iterator[Item]:
    kind = "erp:hostile-json"
    yield "j-deep.json", b"[" * 100_000 + b"]" * 100_000, kind, "json-deep", "reject"
    yield "j-deep-object.json", b'{"receipts":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001, kind, "json-deep", "reject"
    yield "j-long-int.json", _receipts_json(raw_qty="9" * 5000), kind, "json-digits", "reject"
    yield "j-long-float.json", _receipts_json(raw_qty="1." + "9" * 5000), kind, "json-digits", "reject"
    for i, raw in enumerate(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E+70", "1e-400", '"nan"',
                             '"1e999"', '"-Infinity"', '"1E+999999999"', '"0.' + "0" * 40 + '1"',
                             '"' + "9" * 60 + '"', "1e308", '"sNaN"', '"1_000"']):
        yield f"j-number-{i}.json", _receipts_json(raw_qty=raw), kind, "erp-number", "reject"
    yield "j-surrogate.json", _receipts_json(raw_qty='"\\ud800"'), kind, "surrogate", "reject"
    yield "j-surrogate-part.json", _receipts_json().replace(b'"RM-1001"', b'"RM-\\udfff"'), kind, "surrogate", "any"
    lines = b"\n".join(json.dumps(r).encode() for r in json.loads(_receipts_json())["receipts"])
    yield "jl-deep.jsonl", lines + b"\n" + b"[" * 100_000 + b"\n", "erp:hostile-jsonl", "json-deep", "reject"
    yield "jl-long-int.jsonl", lines + b'\n{"qty": ' + b"9" * 5000 + b"}\n", "erp:hostile-jsonl", "json-digits", \
        "reject"
    yield "jl-nan.jsonl", lines.replace(b'"12000"', b"NaN"), "erp:hostile-jsonl", "erp-number", "reject"
    yield "jl-long-line.jsonl", lines + b'\n{"part": "' + b"x" * (8 << 20) + b'"}\n', "erp:hostile-jsonl", \
        "long-line", "reject"


def _csv_inputs(seeds: dict[str, list[tuple[str, bytes]]]) -> Iterator[Item]:
    base = seeds["erp-csv"][0][1]
    kind = "erp:receipts-csv"
    values = ["nan", "NaN", "-Infinity", "Infinity", "inf", "1e999", "-1e999", "1E+999999999", "1e-999999999",
              "9" * 60, "0." + "0" * 30 + "1", "1" + "0" * 25, "sNaN", "+Inf", "1e19", "12.0000000000001"]
    for i, value in enumerate(values):
        yield f"c-qty-{i}.csv", base.replace(b",250.5,", f",{value},".encode(), 1), kind, "erp-number", "reject"
    yield "c-long-line.csv", base + b"18/11/2026,RM-1,1,KG,x," + b"A" * (8 << 20) + b",,,,\n", kind, "long-line", \
        "reject"
    yield "c-blank-lines.csv", base + b"\n" * 3_000_000, kind, "many-lines", "any"
    rows = base.split(b"\n")[1] + b"\n"
    yield "c-many-rows.csv", base + rows * 400_000, kind, "many-rows", "any"
    yield "c-nul.csv", base.replace(b"RM-1001", b"RM\x001001"), kind, "csv-broken", "any"
    yield "c-quote.csv", base + b'18/11/2026,"RM-1,1\n' * 1000, kind, "csv-broken", "any"


def _xml_inputs(seeds: dict[str, list[tuple[str, bytes]]]) -> Iterator[Item]:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
              b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                       for i in range(1, 10)) + b']><cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4">'
              b"&lol9;</cfdi:Comprobante>")
    yield "billion-laughs.xml", laughs, "auto", "xml-attack", "reject"
    yield "xxe.xml", (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                      b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4">&x;</cfdi:Comprobante>'), \
        "auto", "xml-attack", "reject"
    yield "xinclude.xml", (b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" '
                           b'xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" '
                           b'parse="text"/></cfdi:Comprobante>'), "auto", "xml-attack", "reject"
    yield "deep.xml", b"<a>" * 200_000 + b"</a>" * 200_000, "auto", "xml-deep", "reject"
    yield "many-attrs.xml", b"<cfdi:Comprobante xmlns:cfdi=\"http://www.sat.gob.mx/cfd/4\" " + \
        b" ".join(b'a%d="1"' % i for i in range(200_000)) + b"/>", "auto", "xml-big", "reject"
    yield "erp-deep.xml", b"<ShipmentExport xmlns=\"urn:example:erp:shipments:1\">" + b"<Shipment>" * 100_000, \
        "erp:shipments-xml", "xml-deep", "reject"
    cfdi = seeds["cfdi"][0][1]
    yield "cfdi-surrogate.xml", cfdi.replace(b'Version="4.0"', b'Version="4.0" x="\xed\xa0\x80"', 1), "auto", \
        "encoding", "reject"
    yield "cfdi-nan.xml", cfdi.replace(b'Total="', b'Total="NaN', 1), "auto", "xml-number", "reject"
    yield "cfdi-long-number.xml", cfdi.replace(b'Total="', b'Total="' + b"9" * 5000, 1), "auto", "xml-number", \
        "reject"


def _pedimento_inputs(seeds: dict[str, list[tuple[str, bytes]]]) -> Iterator[Item]:
    files = dict(seeds["pedimento"])
    mfile = files["SYNTHETIC_m3456001.245"]
    yield "m3456001.245", mfile.replace(b"|17.12340|", b"|NaN|", 1), "auto", "ped-number", "reject"
    yield "m3456002.245", mfile.replace(b"|1500.00|", b"|1E+999999999|", 1), "auto", "ped-number", "reject"
    yield "m3456003.245", mfile.replace(b"\n", b"|" + b"9" * (4 << 20) + b"\n", 1), "auto", "long-line", "reject"
    yield "m3456004.245", mfile + b"\n" * 2_000_000, "auto", "many-lines", "reject"


def _names(seeds: dict[str, list[tuple[str, bytes]]]) -> Iterator[Item]:
    """File names are data: long, reserved, leading dash, spaces, Unicode, control characters."""
    cfdi = seeds["cfdi"][1][1]
    names = ["processed", "-rf.xml", "--help", " spaced name .xml", "factura ñandú 🚚.xml", "tab\tname.xml",
             "new\nline.xml", "esc\x1b[31mred.xml", "a" * 250 + ".xml", "é" * 120 + ".xml", "staging", "archive",
             "CON", "nul.xml", ".hidden.xml", "trailing.", "x.tmp.xml", "quote'\"name.xml", "back\\slash.xml",
             "\u202eevil.xml", "\udcff-bad-utf8.xml"]
    for i, name in enumerate(names):
        data = _mutate(random.Random(i), cfdi) if i % 3 == 0 else cfdi.replace(b'Folio="', b'Folio="%d' % i, 1)
        yield name, data, "auto", "file-name", "any"


def build(out: Path, seed: int = 20, count: int = 1500) -> list[dict[str, str]]:
    rng = random.Random(seed)
    seeds = _seeds()
    targeted: list[Item] = [*_internal_formats(), *_datastage(seeds), *_xlsx(seeds), *_json_inputs(),
                            *_csv_inputs(seeds), *_xml_inputs(seeds), *_pedimento_inputs(seeds), *_names(seeds)]
    items = list(targeted)
    pools = [(group, name, data) for group, files in seeds.items() for name, data in files]
    n = 0
    while len(items) < count:
        group, name, data = pools[n % len(pools)]
        n += 1
        kind = _ERP_KIND.get(group, "auto")
        mutated = _mutate_zip(rng, data) if data[:2] == b"PK" else _mutate(rng, data)
        stem, dot, ext = name.rpartition(".")
        items.append((f"mut{n:04d}-{stem or name}.{ext if dot else 'bin'}", mutated, kind, f"mutation-{group}", "any"))
    out.mkdir(parents=True, exist_ok=True)
    files = out / "files"
    files.mkdir(exist_ok=True)
    (out / "mappings").mkdir(exist_ok=True)
    (out / "mappings" / "hostile-json.toml").write_text(JSON_MAPPING, encoding="utf-8")
    (out / "mappings" / "hostile-jsonl.toml").write_text(JSON_LINES_MAPPING, encoding="utf-8")
    manifest = []
    for index, (name, data, kind, klass, expect) in enumerate(items):
        folder = files / f"{index:04d}"  # one folder per input: names may repeat and are kept as they are
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(data)
        manifest.append({"index": index, "path": str(path.relative_to(out)), "name": name, "kind": kind,
                         "class": klass, "expect": expect, "size": len(data)})
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=True, indent=1), encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--count", type=int, default=1500)
    args = parser.parse_args()
    manifest = build(args.out, args.seed, args.count)
    classes: dict[str, int] = {}
    for item in manifest:
        key = item["class"].split("-")[0] if item["class"].startswith("mutation") else item["class"]
        classes[key] = classes.get(key, 0) + 1
    print(f"{len(manifest)} inputs in {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))


if __name__ == "__main__":
    main()
