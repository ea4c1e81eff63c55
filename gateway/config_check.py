"""``immex-gateway config check [-c FILE] [--connect]``: everything a start would need, checked without starting.

Loading the file checks every key (unknown keys are named with the closest known one); then each part is
looked at on its own, so one report lists every problem: the store, data_dir, certificate and schema folders,
SAT lists and catalogs, ERP mappings, the [web] table, and every source and sink through its adapter's
``probe``. Nothing is created, moved or sent: folders that do not exist yet are reported as "will be created",
a running gateway's staging folder is left alone. ``--connect`` also opens the store and tries each server
(SFTP login with the host key checked, an HTTP OPTIONS request, a database login) and reports each one.
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import ConfigError, Settings

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass
class Check:
    subject: str   # what was checked, as the configuration names it: "store", "sink 'anexo24'", "validation.…"
    status: str    # ok | warning | error
    message: str
    config_error: bool = False  # an error of the configuration itself (exit 2), not of a server (exit 3)

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "status": self.status, "message": self.message}


#: what says one line about a source or sink (``gateway.app.probe``: its adapter's ``probe``)
Probe = Callable[[Any, bool], str]


def run_checks(settings: Settings, connect: bool, probe: Probe,
               extra: dict[str, Callable[[], str]] | None = None) -> list[Check]:
    """Every check, in the order an operator reads them; ``extra`` adds the entry points' own (``[web]``)."""
    checks: list[Check] = []

    def attempt(subject: str, probe: Callable[[], str | tuple[str, str]]) -> None:
        from gateway.exits import UNAVAILABLE, explain
        from gateway.logs import redact_text

        try:
            outcome = probe()
        except ConfigError as exc:
            checks.append(Check(subject, ERROR, redact_text(str(exc)), config_error=True))
            return
        except Exception as exc:  # noqa: BLE001 - every failure becomes a line of the report
            explained = explain(exc)
            text = explained[1].removeprefix(UNAVAILABLE) if explained else \
                f"{type(exc).__name__}: {exc}"
            checks.append(Check(subject, ERROR, redact_text(text)))
            return
        status, message = outcome if isinstance(outcome, tuple) else (OK, outcome)
        checks.append(Check(subject, status, message))

    for notice in settings.notices:  # keys that moved: still applied, but the file should say it the new way
        checks.append(Check(notice.split(":", 1)[0], WARNING, notice.split(": ", 1)[1]))
    attempt("gateway.data_dir", lambda: _folder(settings.data_dir))
    attempt("store", lambda: _store(settings.store_url, connect))
    for number, folder in enumerate(settings.certificate_dirs):
        attempt(f"validation.certificate_dirs[{number}]", functools.partial(_certificates, folder))
    schemas = settings.sat_schema_dir
    if schemas is not None:
        attempt("validation.sat_schema_dir", functools.partial(_sat_schemas, schemas))
    attempt("catálogos / catalogs", lambda: _catalogs(settings))
    attempt("erp.mapping_dirs", lambda: _mappings(settings))
    for subject, check in (extra or {}).items():
        attempt(subject, check)
    for source in settings.sources:
        attempt(f"source '{source.name}'", functools.partial(probe, source, connect))
    for sink in settings.sinks:
        attempt(f"sink '{sink.name}'", functools.partial(probe, sink, connect))
    return checks


def _folder(path: Path) -> str:
    return folder_usable(path)


def _store(url: str, connect: bool) -> str | tuple[str, str]:
    from gateway.store.sqlite import migrations

    if not url.startswith("sqlite:///"):
        if not connect:
            return url.split("://", 1)[0] + ":// (se prueba con --connect / tried with --connect)"
        from gateway.store import open_store

        open_store(url).close()
        return "conectado / connected"
    path = Path(url[len("sqlite:///"):])
    latest = max(version for version, _, _ in migrations())
    if not path.exists():
        _folder(path.parent)
        return f"{path}: se creará al iniciar / will be created at start (esquema {latest})"
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder", str(path))
    if not connect:
        return f"{path}: existe / exists"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read only: nothing migrated by a check
    try:
        row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    except sqlite3.OperationalError:
        row = (0,)
    finally:
        db.close()
    current = row[0] or 0
    if current < latest:
        return WARNING, (f"{path}: esquema {current}; se aplicarán las migraciones hasta {latest} al iniciar / "
                         f"schema {current}, migrations up to {latest} run at start")
    return f"{path}: esquema {current}, al día / schema up to date"


def _certificates(folder: Path) -> str | tuple[str, str]:
    if not folder.is_dir():
        return WARNING, (f"{folder}: no existe; sin certificados del SAT los sellos de timbrado no se verifican "
                         "(CFDI-SAT-CERT-UNKNOWN) / missing: stamping seals cannot be verified")
    found = [p for p in folder.iterdir() if p.suffix.lower() in (".cer", ".pem", ".crt")]
    if not found:
        return WARNING, f"{folder}: sin certificados (*.cer) / no certificates"
    if not os.access(folder, os.R_OK | os.X_OK):
        raise PermissionError(13, "permission denied", str(folder))
    return f"{folder}: {len(found)} certificado(s)"


def _sat_schemas(folder: Path) -> str:
    if not folder.is_dir():
        raise ConfigError(f"validation.sat_schema_dir: {folder} is not a folder")
    count = sum(1 for _ in folder.rglob("*.xsd"))
    if not count:
        raise ConfigError(f"validation.sat_schema_dir: {folder} holds no *.xsd file")
    return f"{folder}: {count} esquema(s) XSD"


def _catalogs(settings: Settings) -> str | tuple[str, str]:
    from gateway.kinds.cfdi.catalog_info import describe

    report = describe(settings.sat_data_files, settings.catalogs_dir)
    catalogs = len(report["catalogs"])
    imported = sum(1 for entry in report["per_catalog"] if entry["imported"])
    missing = [entry["key"] for entry in report["sat_data"] if not entry["configured"]]
    lists = [f"{entry['key']} ({entry['rows']} filas)" for entry in report["sat_data"] if entry["configured"]]
    message = (f"{catalogs} fuente(s) de catálogos del SAT ({imported} catálogo(s) importado(s) en "
               f"{settings.catalogs_dir}); listas / lists: {', '.join(lists) or 'ninguna / none'}")
    if settings.catalog_max_age is not None:
        from gateway.kinds.cfdi.catalog_info import warnings

        old = warnings(settings.catalogs_dir, settings.catalog_max_age)
        if old:
            return WARNING, message + "; " + "; ".join(old)
    if missing:
        return WARNING, message + f"; sin configurar (sus reglas no corren) / not configured: {', '.join(missing)}"
    return message


def _mappings(settings: Settings) -> str:
    from gateway.kinds.erp import export_kind, mapping_dirs
    from gateway.kinds.erp.preview import check_mapping

    problems, count = [], 0
    for folder in settings.erp_mapping_dirs:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            count += 1
            result = check_mapping(path)
            problems += [f"{path.name}: {p['key'] or '(archivo)'}: {p['message']}" for p in result.get("problems", [])]
    directories = mapping_dirs(settings.erp_mapping_dirs)
    for source in settings.sources:
        if source.kind.startswith("erp:"):
            problem = getattr(export_kind(source.kind, directories), "problem", None)
            if problem is not None:
                problems.append(f"source '{source.name}'.kind {source.kind}: {problem}")
    if problems:
        raise ConfigError("; ".join(problems))
    return f"{count} mapeo(s) válido(s) / valid mapping(s)"


SYMBOLS = {OK: "✔", WARNING: "!", ERROR: "✘"}


def exit_code(checks: list[Check]) -> int:
    """0 when nothing is wrong (warnings allowed), 2 for a configuration error, 3 when only servers failed."""
    errors = [c for c in checks if c.status == ERROR]
    if not errors:
        return 0
    return 2 if any(c.config_error for c in errors) else 3


def folder_usable(path: Path) -> str:
    """``path`` is a folder this process can read and write, or can be created; raises OSError naming it."""
    if path.exists():
        if not path.is_dir():
            raise NotADirectoryError(errno.EEXIST, "exists and is not a folder", str(path))
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "permission denied", str(path))
        return f"{path}: carpeta lista / folder ready"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "cannot be created (permission denied)", str(path))
    return f"{path}: se creará al iniciar / will be created at start"
