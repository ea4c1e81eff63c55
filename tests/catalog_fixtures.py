"""Helpers shared by the ``catalogs import`` tests (CFDI catalogs, Anexo 22 appendices): the CLI as users run it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def import_files(config: Path, *files: Path, force: bool = False):
    done = run_cli("catalogs", "import", "-c", str(config), *map(str, files), *(["--force"] if force else []))
    assert "Traceback" not in done.stderr, done.stderr
    return done


def in_force(config: Path) -> dict[str, dict]:
    """``catalogs info --json``, per catalog."""
    done = run_cli("catalogs", "info", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    return {entry["catalog"]: entry for entry in json.loads(done.stdout)["per_catalog"]}


def two_nodes_on_postgresql(root: Path) -> dict[str, Path]:
    """The configuration files of nodes ``a`` and ``b``: each its own data folder, one PostgreSQL store."""
    from tests.conftest import pg_database

    url = pg_database()
    configs = {}
    for node in ("a", "b"):
        folder = root / node
        (folder / "inbox").mkdir(parents=True)
        configs[node] = folder / "gateway.toml"
        configs[node].write_text(
            f'[gateway]\ndata_dir = "var"\nnode = "node-{node}"\n[store]\nurl = "{url}"\n'
            '[validation]\ncertificate_dirs = []\n', encoding="utf-8")
    return configs


def catalogs_workspace(root: Path) -> tuple[Path, Path]:
    """A folder and its configuration: no certificates, catalogs older than 30 days warned about."""
    config = root / "gateway.toml"
    config.write_text('[gateway]\ndata_dir = "var"\n[validation]\ncertificate_dirs = []\n'
                      'catalog_max_age = "30d"\n', encoding="utf-8")
    return root, config
