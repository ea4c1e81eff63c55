"""No traceback for an operator's mistake: every command, driven through the real CLI with broken configurations,
ends in one line naming the key or the resource; exit 2 for configuration errors, 3 for unusable resources."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import run_cli

GOOD = """
[gateway]
data_dir = "var"

[logging]
level = "warning"

[[source]]
name = "entrada"
type = "folder"
path = "inbox"

[[sink]]
name = "inventario"
type = "folder"
path = "outbox"
"""

#: every command that takes -c, with the arguments it needs besides the configuration
COMMANDS = [
    ["run", "--once"], ["run"], ["serve", "--port", "0"], ["documents", "list"], ["queue", "list"],
    ["queue", "show", "01JX"], ["queue", "retry", "01JX"], ["queue", "replace", "01JX", "README.md"],
    ["queue", "discard", "01JX", "--reason", "x"], ["users", "add", "ana", "--role", "viewer"], ["users", "list"],
    ["users", "role", "ana", "viewer"], ["users", "password", "ana"], ["users", "token", "ana"],
    ["catalogs", "info"], ["catalogs", "import", "README.md"], ["validate", "README.md"], ["config", "check"],
    ["config", "check", "--connect"],
]

#: (name, how to break the workspace, what the message must name); every one is a configuration error
CONFIG_ERRORS = [
    ("missing-file", None, "configuration file not found"),
    ("not-toml", "x = [", "not valid TOML"),
    ("typo", GOOD.replace('data_dir = "var"', 'data_dir = "var"\npoll_intervall = "5s"'),
     "gateway.poll_intervall: unknown key — ¿quiso decir / did you mean `poll_interval`?"),
    ("store-scheme", GOOD + '\n[store]\nurl = "mysql://gw:s3cret-pw@db/immex"\n', "store.url: scheme `mysql://`"),
    ("store-postgres-typo", GOOD + '\n[store]\nurl = "postgres://gw@db/immex"\n', "did you mean `postgresql`"),
    ("bad-duration", GOOD.replace('data_dir = "var"', 'data_dir = "var"\npoll_interval = "fast"'),
     "gateway.poll_interval: 'fast' is not a duration"),
    ("sat-list-missing", GOOD + '\n[validation]\nsat_rfc_list = "no-such.csv"\n', "validation.sat_rfc_list"),
]


def _write(root: Path, text: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "inbox").mkdir(exist_ok=True)
    config = root / "gateway.toml"
    if text is not None:
        config.write_text(text, encoding="utf-8")
    return config


def _run(command: list[str], config: Path):
    return run_cli(*command, "-c", str(config), env={"IMMEX_GATEWAY_PASSWORD": "una-clave-larga-123"}, timeout=120)


def _assert_clean(result, code: int, named: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, (result.returncode, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert named in last, last
    assert "s3cret-pw" not in result.stderr + result.stdout


#: every command meets the first three; the others are the same code path, so three commands suffice
FEW = [["run", "--once"], ["serve", "--port", "0"], ["config", "check"]]


@pytest.mark.parametrize("name,text,named", CONFIG_ERRORS, ids=[c[0] for c in CONFIG_ERRORS])
def test_every_command_names_the_configuration_error(tmp_path, name, text, named):
    config = _write(tmp_path, text)
    commands = COMMANDS if name in ("missing-file", "typo", "store-scheme") else FEW
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda command: (command, _run(command, config)), commands))
    for command, result in results:
        assert result.stderr.strip().startswith("configuración inválida / invalid configuration:"), command
        _assert_clean(result, 2, named)


def test_a_folder_where_the_configuration_should_be(tmp_path):
    _assert_clean(_run(["documents", "list"], tmp_path), 2, "is a folder")


#: (name, workspace change, exit code, what the message names) for the commands that open the store or adapters
RESOURCE_ERRORS = [
    ("data-dir-is-a-file", lambda r: (r / "var").write_text(""), 3, "gateway.data_dir"),
    ("store-is-a-folder", lambda r: (r / "var" / "gateway.db").mkdir(parents=True), 3, "store "),
    ("store-not-a-database", lambda r: ((r / "var").mkdir(), (r / "var" / "gateway.db").write_bytes(b"x" * 4096)),
     3, "store "),
]
STORE_COMMANDS = [c for c in COMMANDS if c[0] in ("run", "serve", "documents", "queue", "users", "catalogs")]


@pytest.mark.parametrize("name,breaks,code,named", RESOURCE_ERRORS, ids=[c[0] for c in RESOURCE_ERRORS])
def test_store_commands_name_the_unusable_resource(tmp_path, name, breaks, code, named):
    config = _write(tmp_path, GOOD)
    breaks(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda command: (command, _run(command, config)), STORE_COMMANDS))
    for command, result in results:
        assert result.stderr.strip().splitlines()[-1].startswith("no disponible / unavailable:"), command
        _assert_clean(result, code, named)


ADAPTER_ERRORS = [
    ("source-path-is-a-file", GOOD, lambda r: (r / "inbox").rmdir() or (r / "inbox").write_text(""), 3,
     "source 'entrada'"),
    ("sink-path-is-a-file", GOOD, lambda r: (r / "outbox").write_text(""), 3, "sink 'inventario'"),
    ("sql-unknown-driver", GOOD + '[[sink]]\nname = "bd"\ntype = "sql"\nurl = "oracle://gw@db/immex"\n', None, 2,
     "sink 'bd'.url: `oracle://`"),
    ("sql-url-env-unset", GOOD + '[[sink]]\nname = "bd"\ntype = "sql"\nurl_env = "NO_SUCH_VAR_I18"\n', None, 2,
     "sink 'bd'.url_env: environment variable NO_SUCH_VAR_I18 is not set"),
    ("http-token-file-missing", GOOD + '[[sink]]\nname = "api"\ntype = "http"\nurl = "http://127.0.0.1:9/x"\n'
     'token_file = "no-token"\n', None, 2, "sink 'api'.token_file"),
    ("sftp-key-missing", GOOD + '[[source]]\nname = "agente"\ntype = "sftp"\nhost = "127.0.0.1"\nusername = "u"\n'
     'private_key_file = "no-key"\nknown_hosts_file = "kh"\nremote_path = "/x"\n', None, 2, "source 'agente'"),
]


@pytest.mark.parametrize("name,text,breaks,code,named", ADAPTER_ERRORS, ids=[c[0] for c in ADAPTER_ERRORS])
def test_run_and_check_name_the_broken_adapter(tmp_path, name, text, breaks, code, named):
    config = _write(tmp_path, text)
    if breaks:
        breaks(tmp_path)
    for command in (["run", "--once"], ["run"]):
        _assert_clean(_run(command, config), code, named)
