"""Configuration errors stop start-up and name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, from_dict, load, parse_duration, parse_size

REPO = Path(__file__).resolve().parents[1]


def test_example_configuration_loads():
    settings = load(REPO / "config" / "gateway.toml")
    assert settings.sources[0].name == "broker-drop" and settings.sinks[0].type == "folder"
    assert settings.correlation_timeout == 72 * 3600


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"gateway": {"data_dirr": "x"}}, "gateway.data_dirr"),
        ({"store": {"url": "mysql://x"}}, "store.url"),
        ({"gateway": {"correlation_timeout": "tres días"}}, "gateway.correlation_timeout"),
        ({"source": [{"name": "a", "type": "folder"}]}, "source 'a'.path"),
        ({"source": [{"name": "a", "type": "folder", "path": "in", "kind": "excel"}]}, "source 'a'.kind"),
        ({"source": [{"type": "folder", "path": "in"}]}, "source[0].name"),
        ({"sink": [{"name": "s", "type": "folder", "path": "o", "max_attempts": 0}]}, "sink 's'.max_attempts"),
        ({"sink": [{"name": "s", "type": "folder", "path": "o"}, {"name": "s", "type": "folder", "path": "p"}]},
         "sink 's'"),
        ({"logging": {"level": "loud"}}, "logging.level"),
        ({"validation": {"max_file_size": "big"}}, "validation.max_file_size"),
        ({"sink": [{"name": "s", "type": "folder", "path": "o", "colour": "red"}]}, "sink 's'.colour"),
        ({"source": [{"name": "a", "type": "folder", "path": "in", "stable": "2s"}]}, "source 'a'.stable"),
        ({"sink": [{"name": "s", "type": "ftp"}]}, "sink 's'.type"),
        ({"source": [{"name": "a", "type": "ftp"}]}, "source 'a'.type"),
    ],
)
def test_errors_name_the_key(tmp_path, raw, key):
    """The core's sections and each adapter's own keys, checked together at start-up (gateway.app.load_settings)."""
    from gateway.app import settings_from_dict

    with pytest.raises(ConfigError) as excinfo:
        settings_from_dict(raw, tmp_path)
    assert key in str(excinfo.value)


def test_the_core_config_keeps_adapter_tables_raw_for_their_adapter(tmp_path):
    settings = from_dict({"sink": [{"name": "s", "type": "folder", "path": "o", "colour": "red"}]}, tmp_path)
    assert settings.sinks[0].options == {"path": "o", "colour": "red"} and not settings.sinks[0].checked


def test_units():
    assert parse_duration("500ms", "k") == 0.5 and parse_duration("2m", "k") == 120 and parse_duration(3, "k") == 3
    assert parse_size("20MB", "k") == 20_000_000 and parse_size("1KiB", "k") == 1024


def test_relative_paths_follow_the_config_file(tmp_path):
    settings = from_dict({"gateway": {"data_dir": "var"}}, tmp_path)
    assert settings.data_dir == tmp_path / "var"
    assert settings.store_url == f"sqlite:///{tmp_path / 'var' / 'gateway.db'}"


def test_commented_http_and_sql_sink_examples_load(tmp_path, monkeypatch):
    """The documented [[sink]] examples of type http and sql stay valid once uncommented."""
    text = (REPO / "config" / "gateway.toml").read_text(encoding="utf-8")
    lines, examples = [], False
    for line in text.splitlines():
        if line.startswith("# ── SFTP"):  # the SFTP examples need real key files: tests/test_sftp_source.py
            break
        examples = examples or "Uncomment and adapt" in line
        if examples and line.startswith("# ") and not line.startswith("# #") and (
                line[2:].startswith("[[sink]]") or " = " in line[2:].split("#")[0]):
            line = line[2:]
        lines.append(line)
    config = tmp_path / "gateway.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    from gateway.app import load_settings

    settings = load_settings(config)
    by_type = {s.type: s for s in settings.sinks}
    assert by_type["http"].options["url"] == "https://inventory.example/api/documents"
    assert by_type["http"].options["timeout"] == 30 and by_type["http"].backoff_max == 300
    assert by_type["sql"].options["table"] == "immex_documents"
    monkeypatch.setenv("ANNEX24_TOKEN", "t")
    from gateway.app import build_sink

    assert build_sink(by_type["http"]).url == "https://inventory.example/api/documents"
