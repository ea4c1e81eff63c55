"""Hostile input never crashes, never exhausts memory, never blocks the next file (issue 20).

Two halves: one regression test per class of hostile input (internal part formats, encrypted and bomb
ZIPs, broken XLSX, deep JSON, numbers that are not amounts, file names, lone surrogates), and
property-based tests (hypothesis) for every reader and the pipeline, seeded from the samples: whatever the
bytes, the answer is a finding or a success, never an exception (nor an INTERNAL finding, which is the
last-resort guard catching one), with bounded memory. ``FUZZ_EXAMPLES`` sets the examples per property
(``make fuzz`` runs thousands; ``make test`` a few dozen).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, run_cli
from erp_fixtures import DATA as ERP_DATA
from erp_fixtures import write_bom_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zip_fixtures import encrypted_flag

from gateway import limits
from gateway.findings import CODES, Severity
from gateway.kinds import KindRegistry
from gateway.kinds.erp import export_kind, mapping_dirs
from gateway.limits import Limits
from gateway.pipeline import check_bytes

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
PEAK_BYTES = 96 * 1024 ** 2  # Python allocations of one check of one small input


class _Standalone:
    """What ``validate`` gives check_bytes: kinds without a store."""

    kinds = KindRegistry()


GW = _Standalone()
PEDIMENTO = SAMPLES / "pedimento"


def check(data: bytes, name: str = "input", kind: str = "auto"):
    """check_bytes, then every part it yields checked as the gateway checks its own parts; findings of both."""
    kind_name, result = check_bytes(GW, data, name, kind)  # type: ignore[arg-type]
    part_findings = []
    trusted = GW.kinds.makes_parts(kind_name)
    for part in result.parts or ():  # findings of the container itself may be added while its parts are read
        if part.kind in ("attachment", "refused"):
            part_findings += part.findings
            continue
        data = part.data if part.opener is None else part.opener().read()
        _, part_result = check_bytes(GW, data, part.label, part.kind, trusted=trusted)  # type: ignore[arg-type]
        part_findings += part_result.findings
    return kind_name, result, result.findings + part_findings


def erp(kind: str, data: bytes):
    """An ERP export read through its mapping as the pipeline does: every row, every part."""
    export = export_kind(kind, mapping_dirs([Path(__file__).parent / "data" / "hostile-mappings"]))
    kind_name, result = check_bytes(_ErpOnly(export), data, "export", kind)  # type: ignore[arg-type]
    rows = [part for part in result.parts or ()]
    return result, rows


class _ErpOnly:
    def __init__(self, export) -> None:  # noqa: ANN001
        registry = KindRegistry()
        registry.get = lambda name, _e=export: _e if name.startswith("erp:") else KindRegistry.get(registry, name)
        self.kinds = registry


def codes(findings) -> set[str]:  # noqa: ANN001
    return {f.code for f in findings}


def limit_keys(findings) -> set[str]:  # noqa: ANN001
    return {f.location.get("limit") for f in findings if f.code == "LIMIT"}


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return out.getvalue()


def _datastage_members() -> list[tuple[str, bytes]]:
    return [("1234567_501.asc", (PEDIMENTO / "datastage-sample_501.asc").read_bytes()),
            ("1234567_551.asc", (PEDIMENTO / "datastage-sample_551.asc").read_bytes())]


# 1. internal part formats are never accepted from outside ---------------------------------------------------

CHUNK_HEADER = b'{"erp_chunk":"1.0","target":"erp.materials","mapping":"x","chunk":1,"rows":1,"bad_rows":false}'


@pytest.mark.parametrize("line", [b'{"row":1,"errors":[{"code":"X","severity":"bogus","message":"m"}]}',
                                  b'{"record":{"row":2,"part_number":"FORGED"}}', b"[1,2]", b'{"warnings":7}'])
def test_an_erp_chunk_from_outside_is_refused_not_trusted(line):
    kind, result, _ = check(CHUNK_HEADER + b"\n" + line + b"\n", "chunk.jsonl")
    assert codes(result.findings) == {"FILE-INTERNAL-FORMAT"} and not result.ok


def test_a_datastage_part_from_outside_is_refused_even_declared_as_pedimento():
    data = b"DATASTAGE|F|3420|6000001|470\nR|501|2|x\n"
    for kind in ("auto", "pedimento"):
        _, result, _ = check(data, "part.txt", kind)
        assert codes(result.findings) == {"FILE-INTERNAL-FORMAT"}


def test_an_internal_format_inside_a_zip_is_the_senders_and_refused():
    data = _zip([("chunk.jsonl", CHUNK_HEADER + b'\n{"record":{"row":2}}\n'),
                 ("part.txt", b"DATASTAGE|F|3420|6000001|470\nR|501|2|x\n")])
    kind, _, findings = check(data, "expediente.zip")
    assert kind == "zip" and [f.code for f in findings].count("FILE-INTERNAL-FORMAT") == 2


def test_a_damaged_chunk_made_by_the_gateway_is_a_finding_not_an_exception():
    data = CHUNK_HEADER + b'\n{"row":1,"errors":[{"code":"X","severity":"bogus","message":"m"}]}\n{"errors":"x"}\n'
    _, result = check_bytes(GW, data, "chunk", "erp.materials", trusted=True)  # type: ignore[arg-type]
    assert codes(result.findings) == {"FILE-ENCODING"} and not result.ok


def test_validate_refuses_an_internal_kind(tmp_path):
    path = tmp_path / "chunk.jsonl"
    path.write_bytes(CHUNK_HEADER + b"\n")
    result = run_cli("validate", "--kind", "erp.materials", str(path))
    assert result.returncode == 2 and "tipo interno" in result.stderr and "Traceback" not in result.stderr


# 2. archives: encrypted members and bombs -------------------------------------------------------------------

def test_an_encrypted_datastage_member_is_a_finding():
    data = encrypted_flag(_zip(_datastage_members(), zipfile.ZIP_STORED), "1234567_551.asc")
    with pytest.raises(RuntimeError, match="encrypted"):
        zipfile.ZipFile(io.BytesIO(data)).read("1234567_551.asc")  # what the gateway used to raise
    _, result, findings = check(data, "ds.zip")
    assert "FILE-ARCHIVE" in codes(findings) and not result.ok
    assert next(f for f in findings if f.code == "FILE-ARCHIVE").location["member"] == "1234567_551.asc"


@pytest.mark.parametrize(("member", "key", "tight"), [
    (b"A" * 300_000, "max_compression_ratio", {}),
    (b"\n" * 300_000, "max_compression_ratio", {}),
    (b"A" * 300_000, "max_line_length", {"max_compression_ratio": 10 ** 6}),
    (b"\n" * 300_000, "max_rows", {"max_compression_ratio": 10 ** 6, "max_rows": 1000}),
    (b"x", "max_expanded_size", {"max_expanded_size": 1000}),
])
def test_datastage_bombs_stop_at_their_limit(member, key, tight):
    members = _datastage_members()
    header = members[0][1].split(b"\n", 1)[0] + b"\n"
    members[0] = (members[0][0], header + member)
    with limits.configured(Limits(**{"max_line_length": 100_000, **tight})):
        _, result, findings = check(_zip(members), "ds.zip")
    assert key in limit_keys(findings) and not result.ok


def test_too_many_members_in_a_zip():
    members = [(f"{i:07d}_501.asc", b"Patente|Pedimento|SeccionAduanera\n") for i in range(30)]
    with limits.configured(Limits(max_archive_members=20)):
        _, result, findings = check(_zip(members, zipfile.ZIP_STORED), "ds.zip")
    assert limit_keys(findings) == {"max_archive_members"}


def test_a_long_line_in_an_m_file_and_too_many_lines():
    mfile = (PEDIMENTO / "SYNTHETIC_m3456001.245").read_bytes()
    with limits.configured(Limits(max_line_length=1000)):
        _, result, findings = check(mfile.replace(b"\n", b"|" + b"9" * 5000 + b"\n", 1), "m3456001.245")
    assert limit_keys(findings) == {"max_line_length"}
    with limits.configured(Limits(max_rows=500)):
        _, result, findings = check(mfile + b"\n" * 1000, "m3456001.245")
    assert limit_keys(findings) == {"max_rows"}


def test_an_amount_beyond_any_pedimento_is_a_layout_finding_not_an_overflow():
    mfile = (PEDIMENTO / "SYNTHETIC_m3456001.245").read_bytes().replace(b"|1500.00|", b"|1E+999999999|", 1)
    _, result, findings = check(mfile, "m3456001.245")
    assert "PED-LAYOUT" in codes(findings) and "INTERNAL" not in codes(findings)


# 3. XLSX ----------------------------------------------------------------------------------------------------

def _bom_parts(tmp_path: Path) -> dict[str, bytes]:
    source = zipfile.ZipFile(write_bom_xlsx(tmp_path / "bom.xlsx"))
    return {name: source.read(name) for name in source.namelist()}


def _sheet(parts: dict[str, bytes]) -> str:
    return next(n for n in parts if n.startswith("xl/worksheets/sheet1"))


def _rebuilt(parts: dict[str, bytes]) -> bytes:
    return _zip(list(parts.items()))


def test_a_bad_shared_string_index_is_a_finding(tmp_path):
    parts = _bom_parts(tmp_path)
    sheet = _sheet(parts)
    parts[sheet] = parts[sheet].replace(b'<c r="A4" t="inlineStr">', b'<c r="A4" t="s"><v>99999</v></c><c r="Z4" '
                                        b't="inlineStr">', 1)
    parts[sheet] = parts[sheet].replace(b'<c r="A4"', b'<c r="A4" t="s"', 1).replace(b"<v>", b"<v>99999", 1)
    parts["xl/sharedStrings.xml"] = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                     b"<si><t>x</t></si></sst>")
    result, _ = erp("erp:bom-xlsx", _rebuilt(parts))
    assert "INTERNAL" not in codes(result.findings)


def test_a_corrupt_deflate_stream_is_a_finding(tmp_path):
    data = bytearray(_rebuilt(_bom_parts(tmp_path)))
    at = data.find(b"xl/worksheets/sheet1.xml") + 60
    data[at:at + 40] = bytes(b ^ 0x55 for b in data[at:at + 40])
    result, _ = erp("erp:bom-xlsx", bytes(data))
    assert not result.ok and "INTERNAL" not in codes(result.findings)


@pytest.mark.parametrize(("key", "tight", "change"), [
    ("max_shared_strings", {"max_shared_strings": 100},
     lambda p, s: p.update({"xl/sharedStrings.xml": b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                            b'2006/main">' + b"<si><t>s</t></si>" * 500 + b"</sst>"})),
    ("max_sheet_rows", {"max_sheet_rows": 100},
     lambda p, s: p.update({s: p[s].replace(b"</sheetData>", b"".join(b'<row r="%d"/>' % r for r in range(20, 400))
                                            + b"</sheetData>")})),
    ("max_sheet_columns", {"max_sheet_columns": 50},
     lambda p, s: p.update({s: p[s].replace(b"</sheetData>", b'<row r="99"><c r="XFD99"><v>1</v></c></row>'
                                            b"</sheetData>")})),
])
def test_xlsx_limits(tmp_path, key, tight, change):
    parts = _bom_parts(tmp_path)
    change(parts, _sheet(parts))
    with limits.configured(Limits(**tight)):
        result, _ = erp("erp:bom-xlsx", _rebuilt(parts))
    assert limit_keys(result.findings) == {key}


# 4. JSON and numbers ----------------------------------------------------------------------------------------

def _receipts_json(qty: bytes) -> bytes:
    return (b'{"receipts":[{"date":"2026-11-18","part":"RM-1001","qty":' + qty + b',"unit":"KG"},'
            b'{"date":"2026-11-19","part":"RM-1002","qty":"12000","unit":"PZA"}]}')


def test_deep_json_and_long_numbers_stop_at_their_limit():
    result, _ = erp("erp:hostile-json", b"[" * 100_000 + b"]" * 100_000)
    assert limit_keys(result.findings) == {"max_nesting_depth"}
    result, _ = erp("erp:hostile-json", _receipts_json(b"9" * 5000))
    assert limit_keys(result.findings) == {"max_number_digits"}


@pytest.mark.parametrize("qty", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b'"nan"', b'"1E+999999999"',
                                 b'"0.' + b"0" * 20 + b'1"', b'"' + b"9" * 25 + b'"', b'"sNaN"', b'"\\ud800"',
                                 b'"1_000"', b'" Inf"', b'"0x10"'])
def test_numbers_that_are_not_amounts_are_row_errors(qty):
    result, parts = erp("erp:hostile-json", _receipts_json(qty))
    assert [f.code for f in result.findings] == ["ERP-ROW"] and result.findings[0].location["row"] == 1
    assert parts == []  # reject-file: nothing forwarded


@pytest.mark.parametrize("qty", [b"nan", b"-Infinity", b"1e999", b"1E+999999999", b"0.00000000000000000001",
                                 b"1" + b"0" * 20])
def test_csv_numbers_that_are_not_amounts_are_row_errors(qty):
    data = (ERP_DATA / "receipts.csv").read_bytes().replace(b",250.5,", b"," + qty + b",", 1)
    result, parts = erp("erp:receipts-csv", data)
    bad = [p for p in parts if p.label.startswith("filas con errores")]
    assert len(bad) == 1 and b'"code":"ERP-ROW"' in bad[0].data  # queue-rows: the row is queued, not forwarded


def test_a_long_csv_line_stops_at_the_limit():
    data = (ERP_DATA / "receipts.csv").read_bytes() + b"18/11/2026,RM-1,1,KG," + b"A" * 5000 + b",,,,,\n"
    with limits.configured(Limits(max_line_length=1000)):
        result, _ = erp("erp:receipts-csv", data)
    assert limit_keys(result.findings) == {"max_line_length"}


def test_validate_json_prints_a_lone_surrogate(tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(_receipts_json(b'"RM-\\udfff"').replace(b'"RM-1001"', b'"RM-\\ud800"'))
    config = tmp_path / "gateway.toml"
    config.write_text(f'[erp]\nmapping_dirs = ["{Path(__file__).parent / "data" / "hostile-mappings"}"]\n',
                      encoding="utf-8")
    result = run_cli("validate", "--json", "--kind", "erp:hostile-json", "-c", str(config), str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert json.loads(result.stdout)[0]["valid"] is False


# 5. file names and the pipeline's last resort ---------------------------------------------------------------

NAMES = ["processed", "-rf.xml", " spaced name .xml", "factura ñandú 🚚.xml", "new\nline.xml", "esc\x1b[31m.xml",
         "a" * 251 + ".xml"]


def test_file_names_are_data(workspace):
    (workspace.inbox / "processed").rmdir() if (workspace.inbox / "processed").is_dir() else None
    for i, name in enumerate(NAMES):
        (workspace.inbox / name).write_bytes(b"<not-a-cfdi %d/>" % i)
    long_name = NAMES[-1]
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    (workspace.inbox / long_name).write_bytes(b"<not-a-cfdi again/>")  # the same 255-byte name again
    assert workspace.cli("run", "--once").returncode == 0
    left = [p.name for p in workspace.inbox.iterdir() if p.name != "processed" and not p.name.startswith(".")]
    assert left == []
    taken = sorted(d["filename"] for d in workspace.documents())
    assert taken == sorted([*NAMES, long_name])
    moved = [p.name for p in (workspace.inbox / "processed").iterdir()]
    assert len(moved) == len(NAMES) + 1 and all(len(os.fsencode(n)) <= 255 for n in moved)
    listing = workspace.cli("documents", "list")
    assert "\x1b" not in listing.stdout and "new\\nline.xml" in listing.stdout


def test_a_file_named_like_the_processed_folder_before_start(tmp_path):
    from conftest import write_config

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "processed").write_bytes(b"<a/>")
    (inbox / "other.xml").write_bytes(b"<b/>")
    config = write_config(tmp_path, stable_time="0s")
    result = run_cli("run", "--once", "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in inbox.iterdir() if not p.name.startswith(".")) == ["processed"]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["other.xml", "processed"]


def test_a_checker_defect_rejects_one_file_and_the_next_goes_on(workspace, monkeypatch, make_invoice):
    from gateway import runner
    from gateway.kinds.cove.kind import CoveKind

    def broken(self, data):  # noqa: ANN001, ANN202 - a defect in one kind's checker
        raise RuntimeError("bug")

    monkeypatch.setattr(CoveKind, "check", broken)
    (workspace.inbox / "a-cove.xml").write_bytes((SAMPLES / "cove" / "vucem-recibircove-resp-ok.xml").read_bytes())
    (workspace.inbox / "b-cfdi.xml").write_bytes(make_invoice(1))
    gw = workspace.gateway()
    try:
        runner.run_once(gw, drain_timeout=10)
        states = {d.filename: (d.state, d.id) for d in gw.store.list_documents()}
        assert states["a-cove.xml"][0] == "rejected"
        assert [f.code for f in gw.store.findings(states["a-cove.xml"][1])] == ["INTERNAL"]
        assert states["b-cfdi.xml"][0] == "forwarded"
    finally:
        gw.close()


# 6. properties: any bytes → a finding or a success ----------------------------------------------------------

def _seeds() -> list[tuple[str, str, bytes]]:
    cfdi = sorted((SAMPLES / "cfdi" / "valid").glob("*.xml"))[:3]
    cove = sorted((SAMPLES / "cove").glob("*.xml"))[:3]
    pedimento = [p for p in sorted(PEDIMENTO.iterdir()) if p.suffix != ".md"]
    seeds = [("auto", p.name, p.read_bytes()) for p in [*cfdi, *cove, *pedimento]]
    seeds.append(("auto", "1234567.zip", _zip(_datastage_members())))
    return seeds


def _bom_bytes() -> bytes:
    buffer = io.BytesIO()
    write_bom_xlsx(buffer)  # type: ignore[arg-type]
    return buffer.getvalue()


def _erp_seeds() -> list[tuple[str, str, bytes]]:
    return [("erp:receipts-csv", "r.csv", (ERP_DATA / "receipts.csv").read_bytes()),
            ("erp:sap-materials", "m.csv", (ERP_DATA / "sap-materials.csv").read_bytes()),
            ("erp:shipments-xml", "s.xml", (ERP_DATA / "shipments.xml").read_bytes()),
            ("erp:hostile-json", "r.json", _receipts_json(b'"250.5"')),
            ("erp:hostile-jsonl", "r.jsonl", b'{"date":"2026-11-18","part":"A","qty":"1","unit":"KG"}\n' * 3),
            ("erp:bom-xlsx", "b.xlsx", _bom_bytes())]


SEEDS = _seeds()
HOSTILE = [b"\x00", b"\xff\xfe", b"\xed\xa0\x80", b"<", b"]]>", b"|", b"\n" * 3, b"NaN", b"1e999", b"-Infinity",
           b"9" * 60, b"&lol;", b"<!DOCTYPE x>", b"\r", b'"', b",", b"{", b"[" * 70, b"\\ud800"]


@st.composite
def mutated(draw, data: bytes) -> bytes:  # noqa: ANN001
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        op = draw(st.integers(0, 4))
        if op == 0:
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            del out[at:]
        elif op == 2:
            del out[at:at + draw(st.integers(1, 64))]
        elif op == 3:
            out[at:at] = draw(st.sampled_from(HOSTILE) | st.binary(max_size=16))
        else:
            out[at:at] = out[at:at + draw(st.integers(1, 128))] * draw(st.integers(2, 10))
    return bytes(out)


def _mutated_zip(data: bytes):  # noqa: ANN202
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()

    @st.composite
    def build(draw) -> bytes:  # noqa: ANN001
        victim = draw(st.sampled_from(names))
        return _zip([(n, draw(mutated(source.read(n))) if n == victim else source.read(n)) for n in names])

    return build() | mutated(data)


def _answer_ok(findings) -> None:  # noqa: ANN001
    assert all(f.code in CODES for f in findings)
    assert "INTERNAL" not in codes(findings), [f.message for f in findings if f.code == "INTERNAL"]


def _bounded(call):  # noqa: ANN001, ANN202
    tracemalloc.start()
    try:
        value = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{peak:,} bytes"
    return value


def _strategy(seeds):  # noqa: ANN001, ANN202
    return st.sampled_from(seeds).flatmap(
        lambda s: st.tuples(st.just(s[0]), st.just(s[1]), _mutated_zip(s[2]) if s[2][:2] == b"PK" else mutated(s[2])))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(_strategy(SEEDS))
def test_property_documents_answer_with_findings(case):
    kind, name, data = case
    _, result, findings = _bounded(lambda: check(data, name, kind))
    _answer_ok(findings)
    assert result.ok or any(f.severity is Severity.ERROR for f in findings)


ERP_SEEDS = _erp_seeds()


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(_strategy(ERP_SEEDS))
def test_property_erp_exports_answer_with_findings(case):
    kind, name, data = case
    result, parts = _bounded(lambda: erp(kind, data))
    _answer_ok(result.findings)
    for part in parts:  # every chunk the gateway made reads back cleanly
        _, chunk_result = check_bytes(GW, part.data, part.label, part.kind, trusted=True)  # type: ignore[arg-type]
        _answer_ok(chunk_result.findings)


@settings(max_examples=max(2, FUZZ_EXAMPLES // 10), deadline=None, suppress_health_check=list(HealthCheck),
          database=None)
@given(st.lists(_strategy(SEEDS), min_size=3, max_size=6))
def test_property_the_pipeline_takes_every_file(cases):
    """Hostile files in one inbox: ``run --once`` exits 0, every file has its document and none stays behind."""
    import tempfile

    from conftest import write_config

    with tempfile.TemporaryDirectory(prefix="hostile-run-") as tmp:
        root = Path(tmp)
        (root / "inbox").mkdir()
        names = []
        for i, (_, name, data) in enumerate(cases):
            names.append(f"{i:02d}-{name}")
            (root / "inbox" / names[-1]).write_bytes(data)
        config = write_config(root, stable_time="0s")
        result = subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "-c", str(config)],
                                capture_output=True, text=True, timeout=300, cwd=REPO,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        assert result.returncode == 0, result.stderr[-2000:]
        from gateway.app import Gateway
        from gateway.config import load

        gw = Gateway(load(config), actor="test")
        try:
            documents = gw.store.list_documents()
            assert sorted(d.filename for d in documents if d.parent_id is None) == sorted(names)
            for doc in documents:
                _answer_ok(gw.store.findings(doc.id))
        finally:
            gw.close()
        assert [p.name for p in (root / "inbox").iterdir() if p.name != "processed"] == []


# 7. configuration -------------------------------------------------------------------------------------------

def test_limits_are_configured_by_key_and_a_wrong_value_names_it(tmp_path):
    from gateway.errors import ConfigError

    assert limits.from_table({"max_expanded_size": "2GiB", "max_rows": 10}) == \
        Limits(max_expanded_size=2 * 1024 ** 3, max_rows=10)
    for table, key in (({"max_rows": 0}, "limits.max_rows"), ({"max_rows": True}, "limits.max_rows"),
                       ({"max_bogus": 1}, "limits.max_bogus")):
        with pytest.raises(ConfigError, match=key):
            limits.from_table(table)
    from conftest import write_config

    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + "\n[limits]\nmax_line_length = -1\n", encoding="utf-8")
    result = run_cli("run", "--once", "-c", str(config))
    assert result.returncode == 2 and "limits.max_line_length" in result.stderr


def test_the_sample_configuration_lists_every_limit_with_its_default():
    import tomllib
    from dataclasses import asdict

    table = tomllib.loads((REPO / "config" / "gateway.toml").read_text(encoding="utf-8"))["limits"]
    assert limits.from_table(table) == limits.DEFAULTS and set(table) == set(asdict(limits.DEFAULTS))
    documented = (REPO / "docs" / "limits.md").read_text(encoding="utf-8")
    assert [key for key in table if f"`{key}`" not in documented] == []


def test_a_derived_file_name_never_exceeds_255_bytes():
    from adapters.filenames import with_suffix

    for name in ("a" * 250, "é" * 127, "🚚" * 63 + "x.xml", "short.xml"):
        out = with_suffix(name, ".20261202T120000-1")
        assert len(os.fsencode(out)) <= 255 and out.endswith(".20261202T120000-1")
        assert out.encode("utf-8")  # no character split in half
