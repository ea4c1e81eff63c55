"""SFTP source against a real OpenSSH sshd on 127.0.0.1: complete files only, once, host key checked."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import tracemalloc
from pathlib import Path

import paramiko
import pytest

from adapters.sftp_session import HostKeyError, SftpAuthError, SftpError
from adapters.sources import sftp as sftp_source
from gateway import health, intake, runner
from gateway.app import build_source, settings_from_dict
from gateway.config import ConfigError
from tests import sftp_fixtures
from tests.conftest import REPO
from tests.sftp_fixtures import BASE, FOLDER_SINK, FOLDER_SOURCE, fingerprint_of, free_port

ssh_keys, sshd = sftp_fixtures.ssh_keys, sftp_fixtures.sshd  # fixtures

def configure(workspace, *tables: str) -> None:
    workspace.config.write_text(BASE + "\n".join(tables) + FOLDER_SINK, encoding="utf-8")


def source_from(sshd_server, tmp_path: Path, **options):
    raw = tomllib.loads(f'[gateway]\ndata_dir = "{tmp_path / "var"}"\n' + sshd_server.source_toml(**options))
    return build_source(settings_from_dict(raw, tmp_path).sources[0])


def poll_until_ready(source, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = source.poll()
        if ready:
            return ready
        time.sleep(0.05)
    return []


def run(workspace):
    gw = workspace.gateway()
    try:
        stats = runner.run_once(gw, drain_timeout=10)
        return stats, [(d.filename, d.state, d.source_name) for d in gw.store.list_documents()]
    finally:
        gw.close()


def test_broker_drop_end_to_end_moves_to_processed(workspace, sshd, make_invoice):
    (sshd.remote / "factura-1.xml").write_bytes(make_invoice(1))
    (sshd.remote / "factura-2.xml").write_bytes(make_invoice(2))
    configure(workspace, sshd.source_toml())
    result = workspace.cli("run", "--once")
    assert result.returncode == 0, result.stderr
    docs = workspace.documents()
    assert sorted((d["filename"], d["state"], d["source"]) for d in docs) == [
        ("factura-1.xml", "forwarded", "broker-sftp"), ("factura-2.xml", "forwarded", "broker-sftp")]
    assert len(workspace.forwarded_files()) == 2
    assert sorted(p.name for p in (sshd.remote / "processed").iterdir()) == ["factura-1.xml", "factura-2.xml"]
    assert [p.name for p in sshd.remote.iterdir()] == ["processed"]
    assert list((workspace.root / "var" / "staging").rglob("*.*")) == []  # nothing left in staging

    # the same bytes dropped again: recognised by SHA-256, recorded as duplicate, not forwarded twice
    (sshd.remote / "factura-1-otra-vez.xml").write_bytes(make_invoice(1))
    _, documents = run(workspace)
    assert ("factura-1-otra-vez.xml", "duplicate", "broker-sftp") in documents
    assert len(workspace.forwarded_files()) == 2


def test_after_pickup_delete_and_rename(tmp_path, sshd):
    (sshd.remote / "a.xml").write_bytes(b"<a/>")
    source = source_from(sshd, tmp_path, after_pickup="delete")
    item, = poll_until_ready(source)
    with source.open(item) as stream:
        assert stream.read() == b"<a/>"
    assert source.unchanged(item)
    source.acknowledge(item)
    assert list(sshd.remote.iterdir()) == []
    source.close()

    (sshd.remote / "b.xml").write_bytes(b"<b/>")
    (sshd.remote / "b.xml.processed").write_bytes(b"an earlier b.xml")
    source = source_from(sshd, tmp_path, after_pickup="rename")
    item, = poll_until_ready(source)
    with source.open(item):
        pass
    assert source.unchanged(item)
    source.acknowledge(item)
    names = sorted(p.name for p in sshd.remote.iterdir())
    assert len(names) == 2 and names[0] == "b.xml.processed" and names[1].startswith("b.xml.processed.")
    assert (sshd.remote / names[0]).read_bytes() == b"an earlier b.xml"  # never overwritten
    source.poll()
    assert source.poll() == [] and source.pending() == 0  # renamed files are not taken again
    source.close()


def test_move_creates_processed_path_and_never_overwrites(tmp_path, sshd):
    (sshd.remote / "sub").mkdir()
    (sshd.remote / "sub" / "p.txt").write_bytes(b"new")
    done = sshd.remote.parent / "done" / "sub"
    done.mkdir(parents=True)
    (done / "p.txt").write_bytes(b"old")
    source = source_from(sshd, tmp_path, recursive=True, processed_path="../done")
    item, = poll_until_ready(source)
    assert item.name == "sub/p.txt"
    with source.open(item):
        pass
    source.acknowledge(item)
    assert (done / "p.txt").read_bytes() == b"old"
    moved = [p for p in done.iterdir() if p.name != "p.txt"]
    assert len(moved) == 1 and moved[0].read_bytes() == b"new"
    source.close()


def test_temp_names_dotfiles_symlinks_and_filters(tmp_path, sshd):
    for name in ["a.tmp", "b.PART", ".hidden.xml", "c.xml.filepart", "skip.csv", "keep.xml"]:
        (sshd.remote / name).write_text("x")
    (sshd.remote / "link.xml").symlink_to("/etc/passwd")
    (sshd.remote / "sub").mkdir()
    (sshd.remote / "sub" / "deep.xml").write_text("x")
    source = source_from(sshd, tmp_path, include=["*.xml"], exclude=["skip*"])
    assert [i.name for i in poll_until_ready(source)] == ["keep.xml"]  # not recursive: sub/ left alone
    source.close()


def test_done_marker_gates_the_file_and_is_removed(tmp_path, sshd):
    (sshd.remote / "ped.txt").write_bytes(b"501|...")
    source = source_from(sshd, tmp_path, done_marker=[".done", ".ok"], stable_time="0s")
    for _ in range(3):
        assert source.poll() == []
        time.sleep(0.12)
    (sshd.remote / "ped.txt.ok").write_bytes(b"")
    item, = poll_until_ready(source)
    with source.open(item):
        pass
    source.acknowledge(item)
    assert sorted(p.name for p in sshd.remote.iterdir()) == ["processed"]
    assert [p.name for p in (sshd.remote / "processed").iterdir()] == ["ped.txt"]
    source.close()


def test_a_slow_upload_is_not_taken_early(tmp_path, sshd, make_invoice):
    """The broker uploads over SFTP in pieces; between pieces the file is never taken, however long we wait."""
    data = make_invoice(7)
    source = source_from(sshd, tmp_path, stable_time="0.3s")
    uploader = _connect_as_broker(sshd)
    try:
        with uploader.open(str(sshd.remote / "lenta.xml"), "wb") as remote:
            pieces = [data[i:i + len(data) // 5 + 1] for i in range(0, len(data), len(data) // 5 + 1)]
            for piece in pieces:
                remote.write(piece)
                remote.flush()
                time.sleep(0.4)  # longer than stable_time: only the changing size keeps it from being taken
                assert source.poll() == []
        item, = poll_until_ready(source)
        with source.open(item) as stream:
            assert stream.read() == data
        assert source.unchanged(item)
    finally:
        uploader.close()
        source.close()


def test_a_file_that_changes_during_download_is_left_for_later(tmp_path, sshd):
    (sshd.remote / "x.txt").write_bytes(b"first version")
    source = source_from(sshd, tmp_path)
    item, = poll_until_ready(source)
    with source.open(item):
        pass
    with open(sshd.remote / "x.txt", "ab") as handle:
        handle.write(b" and more")
    assert not source.unchanged(item)
    source.close()


def test_a_file_that_shrinks_during_download_is_left_for_later(tmp_path, sshd, monkeypatch):
    """A short read because the file really got shorter: taken again only once it is stable."""
    monkeypatch.setattr(sftp_source, "WINDOW", 1024)
    path = sshd.remote / "corta.txt"
    path.write_bytes(b"x" * 5000)
    source = source_from(sshd, tmp_path)
    item, = poll_until_ready(source)
    source.progress = lambda remote, done: os.truncate(path, 1500) if done == 1024 else None
    with source.open(item) as stream:
        assert stream.read() == b"x" * 1500
    assert not source.unchanged(item)
    source.close()


def test_a_read_cut_short_while_the_file_is_intact_is_retried_at_once(tmp_path, sshd, monkeypatch):
    """A dying session can answer end-of-file before paramiko sees the connection drop (seen under load,
    where it was taken for a file that shrank and left for a later poll). The file's size tells them apart.

    Simulated deterministically: after the first window the file being read is cut to what was read, while
    the same bytes (same mtime) stand at its path, so only the read comes up short.
    """
    monkeypatch.setattr(sftp_source, "WINDOW", 1024)
    data = bytes(range(256)) * 20
    path = sshd.remote / "intacta.bin"
    path.write_bytes(data)
    listed = os.stat(path)
    source = source_from(sshd, tmp_path)
    item, = poll_until_ready(source)
    cuts: list[int] = []

    def cut_the_read(remote: str, done: int) -> None:
        if not cuts:
            cuts.append(done)
            path.rename(path.with_name("intacta.old"))  # the open remote handle keeps reading this inode
            path.write_bytes(data)
            os.utime(path, ns=(listed.st_atime_ns, listed.st_mtime_ns))
            os.truncate(path.with_name("intacta.old"), done)

    source.progress = cut_the_read
    with source.open(item) as stream:
        assert stream.read() == data
    assert cuts == [1024] and source.unchanged(item)
    source.close()


def test_connection_killed_mid_download_is_retried_and_ingested_once(workspace, sshd, make_invoice, monkeypatch):
    data = make_invoice(3)
    (sshd.remote / "cortada.xml").write_bytes(data)
    configure(workspace, sshd.source_toml())
    monkeypatch.setattr(sftp_source, "WINDOW", 1024)  # several windows, so the cut lands mid-transfer
    cuts: list[int] = []

    gw = workspace.gateway()
    try:
        source = gw.sources[0]

        def cut_once(remote: str, done: int) -> None:
            if not cuts and done < len(data):
                cuts.append(sshd.kill_sessions())

        source.progress = cut_once
        runner.run_once(gw, drain_timeout=10)
        documents = [(d.filename, d.state) for d in gw.store.list_documents()]
    finally:
        gw.close()
    assert cuts and cuts[0] >= 1  # the connection really was cut mid-download
    assert documents == [("cortada.xml", "forwarded")]
    forwarded, = workspace.forwarded_files()
    assert json.loads(forwarded.read_text())["source"]["sha256"] == __import__("hashlib").sha256(data).hexdigest()
    assert [p.name for p in (sshd.remote / "processed").iterdir()] == ["cortada.xml"]


def test_server_stopped_mid_download_then_back_ingests_once(workspace, sshd, make_invoice, monkeypatch):
    data = make_invoice(4)
    (sshd.remote / "f.xml").write_bytes(data)
    configure(workspace, sshd.source_toml(retry_attempts=2))
    monkeypatch.setattr(sftp_source, "WINDOW", 1024)
    gw = workspace.gateway()
    try:
        source = gw.sources[0]
        stopped: list[bool] = []

        def stop_server(remote: str, done: int) -> None:
            if not stopped:
                stopped.append(True)
                sshd.stop()

        source.progress = stop_server
        stats = runner.run_once(gw, drain_timeout=1)
        assert stopped and any("f.xml" in e for e in stats.errors)  # reported, not raised
        assert gw.store.list_documents() == []
        assert (sshd.remote / "f.xml").read_bytes() == data  # left at the source
        source.progress = None
        sshd.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not gw.store.list_documents():
            runner.run_once(gw, drain_timeout=5)
            time.sleep(0.1)
        documents = [(d.filename, d.state) for d in gw.store.list_documents()]
    finally:
        gw.close()
    assert documents == [("f.xml", "forwarded")]
    assert len(workspace.forwarded_files()) == 1
    assert [p.name for p in (sshd.remote / "processed").iterdir()] == ["f.xml"]


@pytest.mark.parametrize("point", ["intake.after-archive", "intake.after-commit"])
def test_crash_during_sftp_intake_then_restart_forwards_once(workspace, sshd, make_invoice, point):
    (sshd.remote / "g.xml").write_bytes(make_invoice(5))
    configure(workspace, sshd.source_toml())
    crashed = workspace.cli("run", "--once", env={"IMMEX_GATEWAY_CRASH_AT": point})
    assert crashed.returncode == -9, crashed.stderr
    assert (sshd.remote / "g.xml").exists()  # the crash came before the release: the file is still there
    restarted = workspace.cli("run", "--once")
    assert restarted.returncode == 0, restarted.stderr
    assert [(d["filename"], d["state"]) for d in workspace.documents()] == [("g.xml", "forwarded")]
    assert len(workspace.forwarded_files()) == 1
    assert [p.name for p in (sshd.remote / "processed").iterdir()] == ["g.xml"]


def test_wrong_host_key_is_refused(tmp_path, sshd, ssh_keys):
    (sshd.remote / "a.xml").write_bytes(b"<a/>")
    other = Path(f"{ssh_keys['other_host']}.pub").read_text().split()
    impostor = tmp_path / "known_hosts_other"
    impostor.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    source = source_from(sshd, tmp_path, known_hosts_file=str(impostor))
    with pytest.raises(HostKeyError, match="HOST KEY MISMATCH") as refused:
        source.poll()
    assert fingerprint_of(Path(f"{ssh_keys['host']}.pub")) in str(refused.value)  # says what it was shown

    unknown = tmp_path / "known_hosts_empty"
    unknown.write_text(f"[127.0.0.1]:{sshd.port + 1} {other[0]} {other[1]}\n")
    source = source_from(sshd, tmp_path, known_hosts_file=str(unknown))
    with pytest.raises(HostKeyError, match="UNKNOWN HOST KEY"):
        source.poll()

    source = source_from(sshd, tmp_path, known_hosts_file=None,
                         host_key_fingerprint=fingerprint_of(Path(f"{ssh_keys['other_host']}.pub")))
    with pytest.raises(HostKeyError, match="pinned host_key_fingerprint"):
        source.poll()
    assert (sshd.remote / "a.xml").exists()

    pinned = source_from(sshd, tmp_path, known_hosts_file=None,
                         host_key_fingerprint=fingerprint_of(Path(f"{ssh_keys['host']}.pub")))
    assert poll_until_ready(pinned)[0].name == "a.xml"
    pinned.close()


def test_wrong_credentials_are_reported_and_the_source_turns_unhealthy(workspace, sshd, ssh_keys, make_invoice):
    (sshd.remote / "a.xml").write_bytes(make_invoice(1))
    configure(workspace, sshd.source_toml(private_key_file=str(ssh_keys["stranger"]), retry_max_wait="0.01s"))
    gw = workspace.gateway()
    try:
        with pytest.raises(SftpAuthError, match="authentication failed for .*private key rejected"):
            gw.sources[0].poll()
        stats = runner.RunStats()
        for _ in range(health.UNHEALTHY_AFTER):
            time.sleep(0.02)
            runner.intake_once(gw, stats)
        component, = [c for c in health.snapshot(gw.store)["components"] if c["name"] == "broker-sftp"]
    finally:
        gw.close()
    assert component["healthy"] is False and "authentication failed" in component["last_error"]
    assert (sshd.remote / "a.xml").exists()


def test_password_from_env_rejected_is_reported_without_the_password(tmp_path, sshd, monkeypatch):
    monkeypatch.setenv("BROKER_SFTP_PASSWORD", "no-es-la-clave-9f3k")
    source = source_from(sshd, tmp_path, private_key_file=None, password_env="BROKER_SFTP_PASSWORD")
    with pytest.raises(SftpAuthError) as failed:
        source.poll()
    assert "password rejected" in str(failed.value)
    assert "no-es-la-clave-9f3k" not in str(failed.value) and "no-es-la-clave" not in repr(source.endpoint)


def test_pem_key_with_passphrase_from_a_file(tmp_path, sshd, ssh_keys):
    (sshd.remote / "a.xml").write_bytes(b"<a/>")
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("s3creto-de-prueba\n")
    source = source_from(sshd, tmp_path, private_key_file=str(ssh_keys["client_pem"]),
                         passphrase_file=str(passphrase))
    assert poll_until_ready(source)[0].name == "a.xml"
    source.close()
    with pytest.raises(ConfigError, match="private_key_file: .* is encrypted"):
        source_from(sshd, tmp_path, private_key_file=str(ssh_keys["client_pem"]))


def test_a_server_that_is_down_or_hangs_does_not_block_a_folder_source(workspace, sshd, make_invoice):
    (workspace.inbox / "local.xml").write_bytes(make_invoice(1))
    (sshd.remote / "remote.xml").write_bytes(make_invoice(2))
    with socket.socket() as hanging:  # accepts connections and never says a word
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(8)
        configure(
            workspace,
            sshd.source_toml("down-sftp", port=free_port()),
            sshd.source_toml("hanging-sftp", port=hanging.getsockname()[1], timeout="1s", retry_attempts=1),
            FOLDER_SOURCE,
            sshd.source_toml("up-sftp"),
        )
        gw = workspace.gateway()
        try:
            stats = runner.run_once(gw, drain_timeout=10)
            documents = sorted((d.filename, d.state, d.source_name) for d in gw.store.list_documents())
            by_name = {c["name"]: c for c in health.snapshot(gw.store)["components"]}
        finally:
            gw.close()
    assert documents == [("local.xml", "forwarded", "broker-drop"), ("remote.xml", "forwarded", "up-sftp")]
    assert any("connection refused" in e for e in stats.errors)
    assert any("hanging-sftp" in e and "handshake" in e for e in stats.errors)
    assert by_name["broker-drop"]["healthy"] and by_name["up-sftp"]["healthy"]
    assert by_name["down-sftp"]["consecutive_failures"] >= 1


def test_a_server_that_stops_answering_mid_session_times_out_then_recovers(workspace, sshd, make_invoice):
    (workspace.inbox / "local.xml").write_bytes(make_invoice(1))
    configure(workspace, sshd.source_toml(timeout="1s", retry_attempts=1, retry_max_wait="0.05s"), FOLDER_SOURCE)
    gw = workspace.gateway()
    try:
        sftp_src = gw.sources[0]
        assert sftp_src.poll() == []  # connected, nothing there yet
        sshd.signal_sessions(signal.SIGSTOP)  # the session freezes: requests are never answered
        try:
            time.sleep(0.15)  # past poll_interval, so the next pass lists again
            stats = runner.run_once(gw, drain_timeout=10)
        finally:
            sshd.signal_sessions(signal.SIGCONT)
            sshd.kill_sessions()
        assert any("broker-sftp" in e and "timed out" in e for e in stats.errors), stats.errors
        assert [(d.filename, d.state) for d in gw.store.list_documents()] == [("local.xml", "forwarded")]
        (sshd.remote / "later.xml").write_bytes(make_invoice(2))
        time.sleep(0.1)  # past the (0.05 s) backoff
        runner.run_once(gw, drain_timeout=10)
        documents = sorted((d.filename, d.state) for d in gw.store.list_documents())
    finally:
        gw.close()
    assert documents == [("later.xml", "forwarded"), ("local.xml", "forwarded")]


def test_a_hung_server_costs_one_timeout_per_backoff_not_one_per_file(workspace, sshd, make_invoice):
    """Listed three files, then the whole server froze: the first download times out, the others fail at once."""
    for seq in (1, 2, 3):
        (sshd.remote / f"h{seq}.xml").write_bytes(make_invoice(20 + seq))
    configure(workspace, sshd.source_toml(timeout="1s", retry_attempts=1, retry_initial_wait="20s"))
    gw = workspace.gateway()
    errors: list[str] = []
    try:
        source = gw.sources[0]
        source.poll()
        items = poll_until_ready(source)
        assert len(items) == 3
        sshd.signal_sessions(signal.SIGSTOP)
        os.kill(sshd.process.pid, signal.SIGSTOP)  # new connections hang in the handshake too
        try:
            for item in items:
                try:
                    intake.take(gw, source, item)
                except OSError as exc:
                    errors.append(str(exc))
        finally:
            os.kill(sshd.process.pid, signal.SIGCONT)
            sshd.signal_sessions(signal.SIGCONT)
            sshd.kill_sessions()
        assert gw.store.list_documents() == []
    finally:
        gw.close()
    assert len(errors) == 3 and "timed out" in errors[0]
    assert all("left alone" in e for e in errors[1:]), errors
    assert sorted(p.name for p in sshd.remote.iterdir()) == ["h1.xml", "h2.xml", "h3.xml"]
    _, documents = run(workspace)  # a restarted gateway takes all three, once
    assert sorted(documents) == [(f"h{n}.xml", "forwarded", "broker-sftp") for n in (1, 2, 3)]


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    from adapters.sftp_endpoint import Endpoint
    from adapters.sftp_session import backoff_wait

    endpoint = Endpoint("source 'x'", "h", 22, "u", retry_initial_wait=1.0, retry_max_wait=300.0)
    for failures in range(1, 15):
        ceiling = min(300.0, 2.0 ** (failures - 1))
        waits = [backoff_wait(endpoint, failures) for _ in range(20)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (failures, waits)


def test_a_server_back_after_an_outage_is_picked_up(tmp_path, sshd):
    (sshd.remote / "a.xml").write_bytes(b"<a/>")
    sshd.stop()
    source = source_from(sshd, tmp_path, retry_initial_wait="0.05s", retry_max_wait="0.2s")
    with pytest.raises(SftpError, match="connection refused"):
        source.poll()
    sshd.start()
    ready, deadline = [], time.monotonic() + 20
    while not ready and time.monotonic() < deadline:
        try:
            ready = source.poll()
        except SftpError as exc:  # still inside the (at most 0.2 s) backoff after the refusal
            assert "connection refused" in str(exc)
        time.sleep(0.05)
    assert [r.name for r in ready] == ["a.xml"]
    source.close()


@pytest.mark.parametrize("starved", [False, True], ids=["idle", "request-thread-starved"])
def test_large_file_streams_with_bounded_memory(tmp_path, sshd, monkeypatch, starved):
    """Memory stays at a few read-ahead windows (16 MiB for a 64 MiB file), not the file's size.

    About 2 MiB on an idle machine. On a loaded one paramiko's read-ahead thread can be starved of CPU: it
    then gives up on its own requests too early and keeps their late answers (see
    ``_drop_stale_read_ahead``); before that was handled, a 64 MiB file peaked at 25-36 MiB under load.
    ``starved`` slows that thread down the same way, on purpose, so the case runs on an idle machine too.
    """
    if starved:
        send = paramiko.SFTPClient._async_request

        def slowly(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if threading.current_thread() is not threading.main_thread():
                time.sleep(0.002)  # the read-ahead thread, waiting for a CPU
            return send(self, *args, **kwargs)

        monkeypatch.setattr(paramiko.SFTPClient, "_async_request", slowly)
    size = 64 * 1024 * 1024
    with open(sshd.remote / "big.bin", "wb") as handle:
        block = bytes(range(256)) * 4096
        for _ in range(size // len(block)):
            handle.write(block)
    source = source_from(sshd, tmp_path)
    item, = poll_until_ready(source)
    tracemalloc.start()
    try:
        with source.open(item) as stream:
            copied = 0
            while chunk := stream.read(1024 * 1024):
                copied += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert copied == size and source.unchanged(item)
    assert peak < 4 * sftp_source.WINDOW, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB file"
    source.close()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"known_hosts_file": None}, "known_hosts_file"),
        ({"password": "x"}, ".password: secrets never go in the configuration"),
        ({"private_key_file": None}, "private_key_file: required"),
        ({"after_pickup": "archive"}, "after_pickup"),
        ({"host_key_fingerprint": "MD5:aa:bb"}, "host_key_fingerprint"),
        ({"remote_path": []}, "remote_path"),
        ({"port": 0}, "port"),
        ({"password_env": "A", "password_file": "b"}, "password_env"),
        ({"done_marker": "done"}, "done_marker"),
    ],
)
def test_config_errors_name_the_key(tmp_path, options, key):
    table = {"name": "s", "type": "sftp", "host": "h", "username": "u", "private_key_file": "k",
             "known_hosts_file": "kh", "remote_path": "/out", **options}
    table = {k: v for k, v in table.items() if v is not None}
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("(", r"\(")) as raised:
        settings_from_dict({"source": [table]}, tmp_path)
    assert "source 's'" in str(raised.value)


def test_missing_secret_stops_start_up_naming_the_key(tmp_path, sshd, monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    with pytest.raises(ConfigError, match=r"password_env: environment variable NO_SUCH_PASSWORD_VAR is not set"):
        source_from(sshd, tmp_path, password_env="NO_SUCH_PASSWORD_VAR")


def _connect_as_broker(sshd_server) -> paramiko.SFTPClient:
    transport = paramiko.Transport(("127.0.0.1", sshd_server.port))
    transport.connect(username=sshd_server.user, pkey=paramiko.PKey.from_path(sshd_server.client_key))
    client = paramiko.SFTPClient.from_transport(transport)
    assert client is not None
    return client


def test_the_documented_example_parses_and_names_every_key(tmp_path):
    from adapters.sftp_options import SINK_KEYS, SOURCE_KEYS

    text = (Path(__file__).resolve().parents[1] / "config" / "gateway.toml").read_text(encoding="utf-8")
    block = text[text.index("# [[source]]\n# name = \"broker-sftp\""):]
    example = "\n".join(line[2:] for line in block.splitlines() if line.startswith("# "))
    example = example.replace("SHA256:…", "SHA256:" + "A" * 43)
    settings = settings_from_dict(tomllib.loads(example), tmp_path)
    assert [s.type for s in settings.sources] == ["sftp"] and [s.type for s in settings.sinks] == ["sftp"]
    source_part, sink_part = block.split("# [[sink]]")
    assert [k for k in sorted(SOURCE_KEYS) if f"{k} " not in source_part] == []
    assert [k for k in sorted(SINK_KEYS) if f"{k} " not in sink_part and k not in source_part] == []


def test_run_keeps_polling_sftp_until_sigterm_and_logs_no_secret(workspace, sshd, make_invoice):
    """The long-running gateway: a file dropped later is taken; an outage in between is logged, not fatal."""
    password_file = workspace.root / "sftp-password"
    password_file.write_text("clave-que-no-debe-salir-en-logs\n")
    configure(workspace, sshd.source_toml(password_file=str(password_file)))  # tried only if the key fails
    workspace.config.write_text(workspace.config.read_text().replace('level = "warning"', 'level = "info"'))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    log_path = workspace.root / "gateway.log"
    sshd.stop()  # an outage while the gateway starts and runs
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "gateway", "run", "-c", str(workspace.config)],
                                   stdout=subprocess.DEVNULL, stderr=log_file, env=env, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while '"source poll failed"' not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        sshd.start()
        (sshd.remote / "llega-despues.xml").write_bytes(make_invoice(12))
        while not workspace.forwarded_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workspace.forwarded_files()) == 1
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = log_path.read_text()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and '"gateway stopped"' in stderr
    assert '"source poll failed"' in stderr and "connection refused" in stderr  # the outage, in the logs
    assert "clave-que-no-debe-salir-en-logs" not in stderr
    assert (sshd.remote / "processed" / "llega-despues.xml").exists()
