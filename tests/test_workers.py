"""``validate --workers N`` and ``gateway/workers.py``: the same findings, in the same order, with one worker or
several; a file that cannot be read or a worker's failure is a finding or an error at its item, never a hang."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import require_samples, run_cli


def _corpus(tmp_path: Path) -> list[str]:
    """Every sample file (CFDI, COVE, pedimentos, external invoices), a missing file and a hostile one."""
    samples = require_samples()
    files = sorted(str(p) for p in samples.rglob("*") if p.is_file() and p.suffix.lower() != ".md"
                   and "csd-test" not in p.parts and p.name != "expected.json")
    bomb = tmp_path / "bomba.xml"
    bomb.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><a>&a;&a;</a>')
    return [*files[:120], str(tmp_path / "no-existe.xml"), str(bomb), *files[120:]]


def test_validate_with_two_workers_says_exactly_what_one_says(tmp_path):
    files = _corpus(tmp_path)
    one = run_cli("validate", "--json", "--workers", "1", *files, timeout=900)
    two = run_cli("validate", "--json", "--workers", "2", *files, timeout=900)
    assert one.returncode == two.returncode == 1  # the corpus holds invalid files
    first, second = json.loads(one.stdout), json.loads(two.stdout)
    assert [item["filename"] for item in first][:len(files)] != [] and first == second
    missing = next(item for item in first if item["filename"].endswith("no-existe.xml"))
    assert missing["findings"][0]["code"] == "FILE-UNREADABLE"
    assert "Traceback" not in two.stderr


def test_containers_split_over_the_workers_print_what_one_process_prints(tmp_path, make_invoice):
    """An M file, a broken M file and a ZIP are split in the gateway process and their parts checked by the
    workers: the same bytes as one process, JSON and text, and the JSON exactly ``json.dumps(…, indent=2)``."""
    import zipfile

    from gateway.demo.generate.pedimento import mfile, sample_pedimento

    name, data = mfile([sample_pedimento(seq, 4) for seq in range(1, 7)])
    whole = tmp_path / name
    whole.write_bytes(data)
    broken = tmp_path / f"m{name[1:4]}9{name[5:]}"
    broken.write_bytes(data.rsplit(b"801|", 1)[0])  # no 801: a finding on the container itself, after its parts
    bundle = tmp_path / "lote.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for seq in range(1, 4):
            archive.writestr(f"factura-{seq}.xml", make_invoice(seq))
        archive.writestr(name, data)
        archive.writestr("nota.txt", b"sin tipo")
    invoice = tmp_path / "factura.xml"
    invoice.write_bytes(make_invoice(9))
    files = [str(whole), str(invoice), str(broken), str(bundle), str(tmp_path / "no-existe.245")]
    for mode in (["--json"], []):
        one = run_cli("validate", *mode, "--workers", "1", *files, timeout=600)
        two = run_cli("validate", *mode, "--workers", "2", *files, timeout=600)
        assert one.stdout == two.stdout and one.returncode == two.returncode == 1, two.stderr[-2000:]
        assert "Traceback" not in two.stderr
    single = run_cli("validate", "--json", "--workers", "2", str(whole), timeout=600)
    entries = json.loads(single.stdout)
    assert single.returncode == 0 and len(entries) == 7 and entries[0]["kind"] == "mfile"
    assert single.stdout == json.dumps(entries, ensure_ascii=False, indent=2) + "\n"


def test_workers_must_be_a_whole_number():
    result = run_cli("validate", "--workers", "0", "x.xml")
    assert result.returncode == 2 and "--workers" in result.stderr and "Traceback" not in result.stderr


def test_a_pool_gives_results_in_order_and_raises_at_the_failing_item():
    from gateway.workers import Pool

    with Pool(2, _setup, (10,), window=3) as pool:
        assert list(pool.map(_times, range(20))) == [i * 10 for i in range(20)]
        results = pool.map(_fails_on_7, range(10))
        assert [next(results) for _ in range(7)] == list(range(7))
        with pytest.raises(ValueError, match="7"):
            next(results)


def test_the_gateway_workers_key_is_checked(tmp_path):
    from gateway.config import from_dict
    from gateway.errors import ConfigError

    assert from_dict({"gateway": {"workers": 3}}, tmp_path).workers == 3
    assert from_dict({}, tmp_path).workers >= 1  # one per core by default
    with pytest.raises(ConfigError, match="gateway.workers"):
        from_dict({"gateway": {"workers": "two"}}, tmp_path)


_FACTOR: dict[str, int] = {}


def _setup(factor: int) -> None:
    _FACTOR["n"] = factor


def _times(value: int) -> int:
    return value * _FACTOR["n"]


def _fails_on_7(value: int) -> int:
    if value == 7:
        raise ValueError("item 7")
    return value


def test_the_pipeline_gives_the_same_verdicts_with_worker_processes(tmp_path, identities, make_invoice):
    """40 invoices (some broken, one a byte copy) through ``run --once`` with one worker and with two: the same
    states and the same findings, document by document (the pool checks batches of 32 and more)."""
    from tests.conftest import Workspace, write_config

    files = {f"f{seq:02}.xml": make_invoice(8000 + seq) for seq in range(36)}
    files["roto.xml"] = make_invoice(8100)[:-30]
    files["copia.xml"] = files["f00.xml"]
    files["vacio.xml"] = b""
    files["texto.txt"] = b"no soy un CFDI"
    outcomes = []
    for workers in (1, 2):
        root = tmp_path / f"w{workers}"
        (root / "inbox").mkdir(parents=True)
        from gateway.demo.generate.cfdi import write_certificate

        write_certificate(identities[1], root / "certs")
        config = write_config(root)
        config.write_text(config.read_text(encoding="utf-8").replace("[gateway]\n", f"[gateway]\nworkers = {workers}\n",
                                                                      1), encoding="utf-8")
        workspace = Workspace(root, config)
        for name, data in files.items():
            (workspace.inbox / name).write_bytes(data)
        assert workspace.cli("run", "--once").returncode == 0
        gw = workspace.gateway()
        try:
            outcomes.append({d.filename: (d.state, d.kind, [(f.code, f.message) for f in gw.store.findings(d.id)])
                             for d in gw.store.list_documents()})
        finally:
            gw.close()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["roto.xml"][0] == "rejected" and outcomes[0]["copia.xml"][0] == "duplicate"
    assert sum(state == "forwarded" for state, _, _ in outcomes[0].values()) == 36


def test_workers_started_ahead_are_the_ones_that_check(tmp_path):
    """``Pool.start`` (used by ``run --once`` while it takes the files) starts every worker at once, each running
    its setup; the later ``map`` uses those same processes, in order."""
    from gateway.workers import Pool

    marks = tmp_path / "marks"
    marks.mkdir()
    with Pool(2, _mark_setup, (str(marks),)) as pool:
        pool.start()
        pool.start()  # a second call changes nothing
        assert list(pool.map(_pid_times_ten, range(40))) == [(i * 10, True) for i in range(40)]
    assert len(list(marks.iterdir())) == 2  # two workers set up, once each


def _mark_setup(folder: str) -> None:
    import os
    from pathlib import Path

    from gateway import workers

    Path(folder, str(os.getpid())).touch()
    workers.STATE["folder"] = folder


def _pid_times_ten(item: int) -> tuple[int, bool]:
    import os
    from pathlib import Path

    from gateway import workers

    return item * 10, Path(workers.STATE["folder"], str(os.getpid())).exists()
