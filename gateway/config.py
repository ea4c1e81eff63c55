"""TOML configuration → typed settings. An invalid configuration stops start-up naming the key.

Relative paths are resolved against the configuration file's directory, so a workspace
can be moved as a whole. Secrets never live here: only the names of environment
variables or files that hold them.

This module owns ``[gateway]``, ``[store]``, ``[validation]``, ``[logging]``, ``[erp]`` and ``[correlation]``
and the keys every ``[[source]]``/``[[sink]]`` shares (name, type, kind, attempts, backoff, concurrency); the
rest of each source and sink table is kept raw for its adapter, which checks it at start-up
(``adapters/registry.py``, called by ``gateway.app.load_settings``). It imports no other project module.
"""

from __future__ import annotations

import difflib
import os
import re
import socket
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError  # the one project import: errors.py imports nothing

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 10**6, "gb": 10**9, "kib": 1024, "mib": 1024**2, "gib": 1024**3, None: 1}


def parse_duration(value: Any, key: str) -> float:
    """``"30s"``, ``"72h"``, ``"500ms"`` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{key}: '{value}' is not a duration (examples: 500ms, 30s, 5m, 72h)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_size(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ConfigError(f"{key}: '{value}' is not a size (examples: 20MB, 512KiB)")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower() or None]


@dataclass
class SourceConfig:
    name: str
    type: str
    kind: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)
    #: which verdicts are answered to the sender (gateway/answers.py), and in which language
    reply_on: tuple[str, ...] = ("accepted", "rejected", "partial")
    reply_language: str = "es"
    #: set once the adapter has checked and completed ``options`` (adapters/registry.py)
    checked: bool = field(default=False, repr=False, compare=False)


@dataclass
class NotifyConfig:
    """``[notify]``: a digest of new rejections and dead letters to operations staff (gateway/notify.py)."""

    type: str = "smtp"
    interval: float = 3600.0
    base_url: str | None = None   # the web page, for links in the digest
    language: str = "es"
    options: dict[str, Any] = field(default_factory=dict)  # the mailer adapter's own keys (server, login, to…)
    checked: bool = field(default=False, repr=False, compare=False)


@dataclass
class SinkConfig:
    name: str
    type: str
    max_attempts: int = 10
    options: dict[str, Any] = field(default_factory=dict)
    backoff_base: float | None = None   # seconds before the 1st retry (doubling); None: gateway.outbox default
    backoff_max: float | None = None    # ceiling of the backoff
    concurrency: int = 4                # deliveries in flight at once to this sink
    checked: bool = field(default=False, repr=False, compare=False)


@dataclass(frozen=True)
class ImmexSettings:
    """``[immex]``: the company facts that move the return clock, and whether discharges wait for originals."""

    program_valid_until: date | None = None  # activo fijo may stay until the program's validity ends
    certified: bool = False                  # empresa certificada (RGCE 7.3.3 fr. XXV): insumos 36 months
    wait_for_originals: bool = True          # a discharge (512) waits correlation_timeout for its original


@dataclass(frozen=True)
class Tolerances:
    """How far the cross-document (XDOC) checks let compared amounts differ."""

    value: Decimal = Decimal("0.01")        # per line compared (USD or invoice currency), rows 9, 10, 19
    quantity: Decimal = Decimal("0.001")    # UMT quantities, row 14
    fx_percent: Decimal = Decimal("1")      # CCE TipoCambioUSD vs pedimento exchange rate: a warning beyond, row 12

POLICIES = ("reject", "forward-with-warning")
HOLDABLE = ("cove", "cfdi")


@dataclass(frozen=True)
class CorrelationSettings:
    #: at the timeout a group still missing a COVE/CFDI is rejected, or forwarded with the finding as a warning
    on_timeout: str = "reject"
    #: kinds that wait for a pedimento to claim them (cfdi: export invoices with Comercio Exterior only)
    hold: tuple[str, ...] = ("cove",)
    tolerances: Tolerances = field(default_factory=Tolerances)
    #: the counterparts a pedimento waits for (505.4): [] where this gateway receives no COVEs or CFDIs
    wait_for: tuple[str, ...] = ("cove", "cfdi")


def correlation_settings(table: dict[str, Any]) -> CorrelationSettings:
    """``[correlation]``: what happens at ``correlation_timeout``, which kinds wait to be claimed, tolerances."""
    known = {"on_timeout", "hold", "wait_for", "value_tolerance", "quantity_tolerance", "fx_tolerance_percent"}
    for key in table:
        if key not in known:
            raise ConfigError(f"correlation.{key}: unknown key (known: {', '.join(sorted(known))})")
    policy = table.get("on_timeout", "reject")
    if policy not in POLICIES:
        raise ConfigError(f"correlation.on_timeout: '{policy}' must be reject or forward-with-warning")
    hold = table.get("hold", ["cove"])
    if not isinstance(hold, list) or any(h not in HOLDABLE for h in hold):
        raise ConfigError(f"correlation.hold: {hold!r} must be a list of kinds among {', '.join(HOLDABLE)}")
    wait_for = table.get("wait_for", ["cove", "cfdi"])
    if not isinstance(wait_for, list) or any(w not in HOLDABLE for w in wait_for):
        raise ConfigError(f"correlation.wait_for: {wait_for!r} must be a list of kinds among {', '.join(HOLDABLE)}")
    defaults = Tolerances()

    def amount(key: str, default: Decimal) -> Decimal:
        value = table.get(key)
        if value is None:
            return default
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal(-1)
        if number < 0 or isinstance(value, bool):
            raise ConfigError(f"correlation.{key}: '{value}' must be a number ≥ 0 (a string such as \"0.01\")")
        return number

    tolerances = Tolerances(amount("value_tolerance", defaults.value), amount("quantity_tolerance", defaults.quantity),
                            amount("fx_tolerance_percent", defaults.fx_percent))
    return CorrelationSettings(policy, tuple(hold), tolerances, tuple(wait_for))


@dataclass
class Settings:
    base_dir: Path
    data_dir: Path
    store_url: str
    company_rfc: str | None = None
    immex_program: str | None = None
    correlation_timeout: float = 72 * 3600
    max_file_size: int = 20 * 10**6
    certificate_dirs: list[Path] = field(default_factory=list)
    sat_schema_dir: Path | None = None
    #: local copies of SAT-side lists for the matrix rules: provider name ("rfc", "lco", "fix", "tigie") -> file
    sat_data_files: dict[str, Path] = field(default_factory=dict)
    #: where ``catalogs import`` keeps SAT's newer catalogs (default data_dir/catalogs; a folder every node mounts
    #: when several share the work), and the age past which /healthz and the overview warn (seconds; None: never)
    catalogs_dir: Path | None = None
    catalog_max_age: float | None = None
    poll_interval: float = 5.0
    #: this node's name in leases and logs (default: the host name), and how long a silent node keeps its lease
    node: str = ""
    lease_ttl: float = 30.0
    #: processes that validate and normalise in parallel (gateway/workers.py); default one per core
    workers: int = 1
    log_level: str = "info"
    log_format: str = "auto"
    sources: list[SourceConfig] = field(default_factory=list)
    sinks: list[SinkConfig] = field(default_factory=list)
    #: where ``erp:<name>`` finds ``<name>.toml`` before the project's own mappings/ folder
    erp_mapping_dirs: list[Path] = field(default_factory=list)
    #: [validation.tolerances]: how far declared and computed amounts may differ (decimal strings)
    tolerances: dict[str, str] = field(default_factory=dict)
    correlation: CorrelationSettings = field(default_factory=CorrelationSettings)
    web: dict[str, Any] = field(default_factory=dict)  # [web] table, checked by gateway/web/settings.py
    immex: ImmexSettings = field(default_factory=lambda: ImmexSettings())
    notify: NotifyConfig | None = None  # [notify], when operations staff are to be mailed
    limits: dict[str, Any] = field(default_factory=dict)  # [limits] table, checked by gateway/limits.py
    #: what the file still says the old way (a key that moved); ``config check`` shows each as a warning
    notices: list[str] = field(default_factory=list)

    #: with a PostgreSQL store: the originals kept in the database too (default), or all in a shared folder
    originals_in_store: bool = False
    originals_dir: Path | None = None

    @property
    def archive_dir(self) -> Path:
        return self.originals_dir or self.data_dir / "archive"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"


_KINDS = re.compile(r"^(auto|cfdi|pedimento|cove|erp:[A-Za-z0-9_.-]+)$")


def load(path: str | Path) -> Settings:
    """Read and check a configuration file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; give the configuration file (gateway.toml) in it") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_dict(raw, path.resolve().parent)


def from_dict(raw: dict[str, Any], base_dir: Path) -> Settings:
    known_top = {"gateway", "store", "validation", "logging", "source", "sink", "erp", "correlation", "web", "notify",
                 "archives", "limits", "immex"}
    for key in raw:
        if key not in known_top:
            raise ConfigError(f"{key}: unknown section{did_you_mean(key, known_top)} "
                              f"(known: {', '.join(sorted(known_top))})")
    gw = _table(raw, "gateway")
    _only(gw, "gateway", {"data_dir", "company_rfc", "immex_program", "correlation_timeout", "poll_interval", "node",
                          "lease_ttl", "workers"})
    workers = gw.get("workers", 0)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise ConfigError("gateway.workers: a whole number of worker processes (0 = one per core)")
    data_dir = _path(base_dir, gw.get("data_dir", "var"))
    store = _table(raw, "store")
    _only(store, "store", {"url", "originals"})
    store_url = store.get("url") or f"sqlite:///{data_dir / 'gateway.db'}"
    _check_store_url(store_url)
    originals = store.get("originals", "database" if not store_url.startswith("sqlite:") else "")
    if not isinstance(originals, str):
        raise ConfigError('store.originals: "database" or the path of a folder every node mounts')
    if originals == "database" and store_url.startswith("sqlite:"):
        raise ConfigError('store.originals = "database" needs a PostgreSQL store (store.url = "postgresql://…"); '
                          "an SQLite store keeps them in gateway.data_dir/archive")
    if store_url.startswith("sqlite:///"):
        db_path = store_url[len("sqlite:///"):]
        store_url = f"sqlite:///{_path(base_dir, db_path)}"
    validation = _table(raw, "validation")
    _only(validation, "validation", {"max_file_size", "certificate_dirs", "sat_schema_dir", "tolerances",
                                     "catalogs_dir", "catalog_max_age", *_SAT_DATA_KEYS})
    catalogs_dir = validation.get("catalogs_dir", "")
    if not isinstance(catalogs_dir, str):
        raise ConfigError("validation.catalogs_dir: must be the path of a folder")
    max_age = validation.get("catalog_max_age")
    tolerances = _tolerances(validation.get("tolerances", {}))
    cert_dirs = validation.get("certificate_dirs", ["certs"])
    if not isinstance(cert_dirs, list) or not all(isinstance(d, str) for d in cert_dirs):
        raise ConfigError("validation.certificate_dirs: must be a list of directory paths")
    logging_ = _table(raw, "logging")
    _only(logging_, "logging", {"level", "format"})
    level = str(logging_.get("level", "info")).lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(f"logging.level: '{level}' must be debug, info, warning or error")
    fmt = str(logging_.get("format", "auto")).lower()
    if fmt not in {"auto", "json", "console"}:
        raise ConfigError(f"logging.format: '{fmt}' must be auto, json or console")
    settings = Settings(
        base_dir=base_dir,
        data_dir=data_dir,
        store_url=store_url,
        originals_in_store=originals == "database",
        originals_dir=_path(base_dir, originals) if originals not in ("", "database") else None,
        company_rfc=gw.get("company_rfc"),
        immex_program=gw.get("immex_program"),
        correlation_timeout=parse_duration(gw.get("correlation_timeout", "72h"), "gateway.correlation_timeout"),
        poll_interval=parse_duration(gw.get("poll_interval", "5s"), "gateway.poll_interval"),
        node=str(gw.get("node") or os.environ.get("IMMEX_GATEWAY_NODE") or socket.gethostname()),
        lease_ttl=parse_duration(gw.get("lease_ttl", "30s"), "gateway.lease_ttl"),
        workers=workers or cores(),
        max_file_size=parse_size(validation.get("max_file_size", "20MB"), "validation.max_file_size"),
        certificate_dirs=[_path(base_dir, d) for d in cert_dirs],
        sat_schema_dir=_path(base_dir, validation["sat_schema_dir"]) if validation.get("sat_schema_dir") else None,
        sat_data_files=_sat_data_files(validation, base_dir),
        catalogs_dir=_path(base_dir, catalogs_dir) if catalogs_dir else data_dir / "catalogs",
        catalog_max_age=parse_duration(max_age, "validation.catalog_max_age") if max_age is not None else None,
        log_level=level,
        log_format=fmt,
        tolerances=tolerances,
        correlation=correlation_settings(_table(raw, "correlation")),
    )
    erp = _table(raw, "erp")
    _only(erp, "erp", {"mapping_dirs"})
    mapping_dirs = erp.get("mapping_dirs", ["mappings"])
    if not isinstance(mapping_dirs, list) or not all(isinstance(d, str) for d in mapping_dirs):
        raise ConfigError("erp.mapping_dirs: must be a list of directory paths")
    settings.erp_mapping_dirs = [_path(base_dir, d) for d in mapping_dirs]
    settings.web = _table(raw, "web")
    settings.immex = _immex(_table(raw, "immex"))
    if "notify" in raw:
        settings.notify = _notify(_table(raw, "notify"))
    # the values are checked by gateway/limits.py when the settings are loaded (gateway.app.load_settings)
    settings.limits, settings.notices = merge_archives(_table(raw, "limits"), _table(raw, "archives"))
    settings.sources = [_source(entry, i, base_dir) for i, entry in enumerate(_array(raw, "source"))]
    settings.sinks = [_sink(entry, i, base_dir) for i, entry in enumerate(_array(raw, "sink"))]
    _unique([s.name for s in settings.sources], "source")
    _unique([s.name for s in settings.sinks], "sink")
    return settings


STORE_SCHEMES = ("sqlite", "postgresql")  # postgresql: several nodes on one store


def _check_store_url(url: Any) -> None:
    """Scheme only: the URL itself may hold a password, so it is never quoted back."""
    supported = "sqlite:///PATH or postgresql://user@host/database"
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"store.url: must be a URL: {supported}")
    scheme = url.split("://", 1)[0]
    if scheme not in STORE_SCHEMES:
        raise ConfigError(f"store.url: scheme `{scheme}://` is not supported{did_you_mean(scheme, STORE_SCHEMES)} "
                          f"({supported})")
    if scheme == "sqlite" and not url.startswith("sqlite:///"):
        raise ConfigError("store.url: a SQLite store is sqlite:///PATH (three slashes; four for an absolute path)")


#: [validation] keys naming local copies of SAT-side lists -> provider name (gateway.kinds.cfdi.satdata)
_SAT_DATA_KEYS = {"sat_rfc_list": "rfc", "sat_lco_list": "lco", "fix_rates": "fix", "tigie_fracciones": "tigie"}


def _sat_data_files(validation: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    files = {}
    for key, provider in _SAT_DATA_KEYS.items():
        value = validation.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"validation.{key}: must be the path of a CSV file")
        path = _path(base_dir, value)
        if not path.is_file():
            raise ConfigError(f"validation.{key}: file not found: {path}")
        files[provider] = path
    return files


def _notify(table: dict[str, Any]) -> NotifyConfig:
    config = NotifyConfig(options={k: v for k, v in table.items()
                                   if k not in {"type", "interval", "base_url", "language"}})
    config.type = str(table.get("type", "smtp"))
    config.interval = parse_duration(table.get("interval", "1h"), "notify.interval")
    base_url = table.get("base_url")
    if base_url is not None and (not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))):
        raise ConfigError("notify.base_url: must be the web page's address, starting with http:// or https://")
    config.base_url = base_url.rstrip("/") if base_url else None
    config.language = str(table.get("language", "es"))
    if config.language not in ("es", "en"):
        raise ConfigError(f"notify.language: '{config.language}' must be es or en")
    return config


def _source(entry: dict[str, Any], index: int, base_dir: Path) -> SourceConfig:
    where = f"source[{index}]"
    name = _required_str(entry, "name", where)
    where = f"source '{name}'"
    type_ = _required_str(entry, "type", where)
    kind = entry.get("kind", "auto")
    if not isinstance(kind, str) or not _KINDS.match(kind):
        raise ConfigError(f"{where}.kind: '{kind}' must be auto, cfdi, pedimento, cove or erp:<mapping>")
    core = {"name", "type", "kind", "reply_on", "reply_language"}
    options = {k: v for k, v in entry.items() if k not in core}  # the adapter's to check
    config = SourceConfig(name=name, type=type_, kind=kind, options=options)
    reply_on = entry.get("reply_on", list(config.reply_on))
    verdicts = {"accepted", "rejected", "partial"}
    if not isinstance(reply_on, list) or not reply_on or not set(reply_on) <= verdicts:
        raise ConfigError(f"{where}.reply_on: must be a list of accepted, rejected, partial")
    config.reply_on = tuple(reply_on)
    language = entry.get("reply_language", "es")
    if language not in ("es", "en"):
        raise ConfigError(f"{where}.reply_language: '{language}' must be es or en")
    config.reply_language = language
    return config


def _sink(entry: dict[str, Any], index: int, base_dir: Path) -> SinkConfig:
    where = f"sink[{index}]"
    name = _required_str(entry, "name", where)
    where = f"sink '{name}'"
    type_ = _required_str(entry, "type", where)
    max_attempts = entry.get("max_attempts", 10)
    if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
        raise ConfigError(f"{where}.max_attempts: must be a whole number ≥ 1")
    common = {"name", "type", "max_attempts", "backoff_base", "backoff_max", "concurrency"}
    options = {k: v for k, v in entry.items() if k not in common}  # the adapter's to check
    config = SinkConfig(name=name, type=type_, max_attempts=max_attempts, options=options)
    for key in ("backoff_base", "backoff_max"):
        if key in entry:
            setattr(config, key, parse_duration(entry[key], f"{where}.{key}"))
    concurrency = entry.get("concurrency", 4)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 64:
        raise ConfigError(f"{where}.concurrency: must be a whole number from 1 to 64")
    config.concurrency = concurrency
    return config


def _immex(table: dict[str, Any]) -> ImmexSettings:
    _only(table, "immex", {"program_valid_until", "certified", "wait_for_originals"})
    until = table.get("program_valid_until")
    if until is not None and not isinstance(until, date):
        try:
            until = date.fromisoformat(str(until))
        except ValueError:
            raise ConfigError(f"immex.program_valid_until: '{until}' must be a date (2031-12-31)") from None
    if isinstance(until, datetime):
        until = until.date()
    for key in ("certified", "wait_for_originals"):
        if key in table and not isinstance(table[key], bool):
            raise ConfigError(f"immex.{key}: '{table[key]}' must be true or false")
    return ImmexSettings(until, table.get("certified", False), table.get("wait_for_originals", True))


TOLERANCES = {"usd": "1.00", "mxn": "1", "relative": "0.005"}


def _tolerances(value: Any) -> dict[str, str]:
    """``[validation.tolerances]``: usd (absolute), mxn (pesos per line), relative (fraction); defaults above."""
    if not isinstance(value, dict):
        raise ConfigError("validation.tolerances: must be a table ([validation.tolerances])")
    _only(value, "validation.tolerances", set(TOLERANCES))
    out = dict(TOLERANCES)
    for key, item in value.items():
        text = str(item).strip()
        if isinstance(item, bool) or not re.fullmatch(r"\d+(\.\d+)?", text):
            raise ConfigError(f"validation.tolerances.{key}: '{item}' must be a non-negative number")
        out[key] = text
    return out


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a table ([{key}])")
    return value


def _array(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{key}: must be an array of tables ([[{key}]])")
    return value


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` — did you mean `poll_interval`?`` for the known name closest to a mistyped one, else ``""``.

    One helper for every table: core sections, and the options each adapter checks for itself.
    """
    match = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if not match and word.lower() != word:
        match = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.6)
    return f" — ¿quiso decir / did you mean `{match[0]}`?" if match else ""


def unknown_key(where: str, key: str, allowed: Iterable[str]) -> ConfigError:
    """The error for a key a table does not have, naming the closest known key and all of them."""
    allowed = sorted(allowed)
    return ConfigError(f"{where}.{key}: unknown key{did_you_mean(key, allowed)} (known: {', '.join(allowed)})")


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise unknown_key(where, key, allowed)


def _required_str(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key}: required, must be a non-empty string")
    return value


def _path(base_dir: Path, value: Any) -> Path:
    path = Path(str(value)).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base_dir / path))


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"{what} '{name}': name used twice; each {what} needs its own name")
        seen.add(name)


#: the former ``[archives]`` table's keys (release 0.x) and the ``[limits]`` key each became
ARCHIVES_KEYS = {
    "max_entries": "max_container_entries",
    "max_entry_size": "max_container_entry_size",
    "max_total_size": "max_container_size",
    "max_ratio": "max_compression_ratio",
    "max_depth": "max_container_depth",
}


def merge_archives(limits: dict[str, Any], archives: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The former ``[archives]`` table folded into ``[limits]``: (the merged table, one notice per key moved).

    One table owns every expansion limit, so a ZIP-bomb ratio cannot be 200 in one place and 1000 in another;
    an old configuration keeps working and ``config check`` says where each key now lives. A key given in both
    tables with different values is refused: the gateway will not guess which one the operator meant.
    """
    merged = dict(limits)
    notices = []
    for old, value in archives.items():
        new = ARCHIVES_KEYS.get(old)
        if new is None:
            raise ConfigError(f"archives.{old}: unknown key; [archives] is now part of [limits] "
                              f"(known: {', '.join(sorted(ARCHIVES_KEYS))})")
        if new in merged and merged[new] != value:
            raise ConfigError(f"archives.{old} = {value!r} contradicts limits.{new} = {merged[new]!r}; "
                              f"keep only limits.{new}")
        merged[new] = value
        notices.append(f"archives.{old} → limits.{new}: [archives] se unió a [limits]; mueva la clave / "
                       f"[archives] is now part of [limits], move the key")
    return merged, notices
