#!/usr/bin/env python
"""SFTP pickup throughput on loopback: the gateway's source against OpenSSH's own clients, in one run.

A real ``sshd`` (as in the tests) serves two sets of files: many small ones (files/s matters)
and a few large ones (MB/s matters). Each set is fetched by

  (a) ``sftp -b`` (one ``get -r``), the raw baseline     (b) ``scp -r`` (SFTP protocol in OpenSSH ≥ 9)
  (c) SftpSource: list, download to staging, verify size and mtime (``poll``/``open``/``unchanged``)
  (d) the whole safe pickup: (c) + archive by SHA-256 with fsync + document row + move to processed/

and the ratios against (a) are printed. Usage: python bench/bench_sftp.py [--small 400] [--large 3] [--mb 64]
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway import logs, runner  # noqa: E402
from gateway.app import Gateway, build_source  # noqa: E402
from gateway.config import from_dict  # noqa: E402
from tests.sftp_fixtures import SshServer, free_port, keygen  # noqa: E402


def make_files(folder: Path, count: int, size: int) -> int:
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"f{i:05d}.bin").write_bytes(os.urandom(size))
    return count * size


def ssh_options(server: SshServer) -> list[str]:
    return ["-i", str(server.client_key), "-o", f"UserKnownHostsFile={server.known_hosts}", "-o",
            "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-P", str(server.port)]


def with_sftp_batch(server: SshServer, remote: Path, local: Path) -> None:
    batch = local.parent / f"{local.name}.batch"
    batch.write_text(f"get -r {remote} {local}\n")
    subprocess.run(["sftp", *ssh_options(server), "-b", str(batch), f"{server.user}@127.0.0.1"], check=True,
                   capture_output=True)


def with_scp(server: SshServer, remote: Path, local: Path) -> None:
    subprocess.run(["scp", "-q", "-r", *ssh_options(server), f"{server.user}@127.0.0.1:{remote}", str(local)],
                   check=True, capture_output=True)


def source_config(server: SshServer, remote: Path, data_dir: Path) -> str:
    return f'[gateway]\ndata_dir = "{data_dir}"\n[logging]\nlevel = "warning"\n' + server.source_toml(
        "bench-sftp", str(remote), stable_time="0s", poll_interval="0s", timeout="60s")


def with_source(server: SshServer, remote: Path, data_dir: Path, expected: int) -> None:
    settings = from_dict(tomllib.loads(source_config(server, remote, data_dir)), data_dir)
    source = build_source(settings.sources[0])
    source.poll()  # first listing: seen; the second (stable_time 0s) hands them out
    items = source.poll()
    assert len(items) == expected, (len(items), expected)
    for item in items:
        with source.open(item) as stream:
            while stream.read(1024 * 1024):
                pass
        assert source.unchanged(item)
    source.close()


def with_intake(server: SshServer, remote: Path, data_dir: Path, expected: int) -> None:
    settings = from_dict(tomllib.loads(source_config(server, remote, data_dir)), data_dir)
    settings.max_file_size = 10**12
    gw = Gateway(settings, actor="bench")
    try:
        stats = runner.RunStats()
        runner.intake_once(gw, stats)  # seen
        taken = runner.intake_once(gw, stats)
        assert taken == expected and not stats.errors, (taken, stats.errors)
    finally:
        gw.close()


def timed(label: str, run, *args) -> float:  # noqa: ANN001
    start = time.perf_counter()
    run(*args)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=400, help="number of small files (16 KiB each)")
    parser.add_argument("--large", type=int, default=3, help="number of large files")
    parser.add_argument("--mb", type=int, default=64, help="size of each large file in MiB")
    args = parser.parse_args()
    logs.configure("warning")
    if not Path("/usr/sbin/sshd").exists():
        print("needs /usr/sbin/sshd (apt-get install openssh-server)", file=sys.stderr)
        return 1
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-sftp-") as tmp_name:
        tmp = Path(tmp_name)
        keys = tmp / "keys"
        keys.mkdir()
        host_key, client_key = keygen(keys / "host"), keygen(keys / "client")
        root = tmp / "sshd"
        root.mkdir()
        port = free_port()
        (root / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
        kind, blob = Path(f"{host_key}.pub").read_text().split()[:2]
        (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {kind} {blob}\n")
        server = SshServer(root=root, port=port, user=getpass.getuser(), host_key=host_key, client_key=client_key,
                           known_hosts=root / "known_hosts", remote=tmp / "remote")
        server.start()
        try:
            sets = {
                "small": (args.small, make_files(tmp / "remote" / "small", args.small, 16 * 1024)),
                "large": (args.large, make_files(tmp / "remote" / "large", args.large, args.mb * 1024 * 1024)),
            }
            print(f"loopback, OpenSSH {_openssh_version()}, paramiko {_paramiko_version()}; "
                  f"small: {args.small} × 16 KiB, large: {args.large} × {args.mb} MiB\n")
            print(f"{'set':6} {'method':34} {'seconds':>8} {'MB/s':>8} {'files/s':>9} {'vs sftp -b':>10}")
            for name, (count, total) in sets.items():
                remote = tmp / "remote" / name
                results: list[tuple[str, float]] = []
                for label, run in (("(a) sftp -b get -r", with_sftp_batch), ("(b) scp -r", with_scp)):
                    local = tmp / f"local-{name}-{label[1]}"
                    results.append((label, timed(label, run, server, remote, local)))
                    shutil.rmtree(local, ignore_errors=True)
                data_dir = tmp / f"var-{name}-c"
                results.append(("(c) SftpSource list+download+verify",
                                timed("c", with_source, server, remote, data_dir, count)))
                shutil.rmtree(data_dir)
                data_dir = tmp / f"var-{name}-d"
                results.append(("(d) (c) + archive, row, move",
                                timed("d", with_intake, server, remote, data_dir, count)))
                shutil.rmtree(data_dir)
                baseline = results[0][1]
                for label, seconds in results:
                    print(f"{name:6} {label:34} {seconds:8.2f} {total / seconds / 1e6:8.1f} {count / seconds:9.1f} "
                          f"{baseline / seconds:10.2f}")
        finally:
            server.stop()
    return 0


def _openssh_version() -> str:
    out = subprocess.run(["ssh", "-V"], capture_output=True, text=True)
    return (out.stderr or out.stdout).split(",")[0].strip()


def _paramiko_version() -> str:
    import paramiko

    return paramiko.__version__


if __name__ == "__main__":
    sys.exit(main())
