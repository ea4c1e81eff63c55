"""SQL sink: one row per forwarded document in a relational table (SQLAlchemy Core), idempotent by id.

Layout (``docs/sql-sink.md``): ``id`` primary key, ``kind``, ``model_version``, ``business_key``,
the source columns, ``record`` (the canonical record, JSONB on PostgreSQL), ``document`` (the
whole envelope) and ``delivered_at``. The table is created on first use if missing (never
altered); schemas are the DBA's. A repeated delivery of the same id inserts nothing
(``ON CONFLICT DO NOTHING``), so a crash between the insert and the outbox commit is harmless.

Connection problems are retried by the outbox; a row the database refuses (constraint, data
type) is a dead letter with the database's message.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from adapters.secrets import read_secret
from gateway.config import SinkConfig, _only, _path
from gateway.ports import ConfigContext, ConfigError, Outgoing, SinkBase, SinkError

SQL_KEYS = {"url", "url_env", "url_file", "table", "schema"}


def table(name: str, schema: str | None = None, metadata: sa.MetaData | None = None) -> sa.Table:
    json_type = sa.JSON().with_variant(JSONB(), "postgresql")
    return sa.Table(
        name, metadata or sa.MetaData(),
        sa.Column("id", sa.String(26), primary_key=True, comment="gateway document id (idempotency key)"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("model_version", sa.String(8), nullable=False),
        sa.Column("business_key", sa.String(80), index=True, comment="CFDI UUID, pedimento number…"),
        sa.Column("source_name", sa.String(120), nullable=False),
        sa.Column("source_filename", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", json_type),
        sa.Column("document", json_type, nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=schema,
    )


class SqlSink(SinkBase):
    TYPE = "sql"

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        _only(options, where, SQL_KEYS)
        if sum(bool(options.get(k)) for k in ("url", "url_env", "url_file")) != 1:
            raise ConfigError(f"{where}.url: give one of url, url_env or url_file (a URL with a password: not in url)")
        if options.get("url_file"):
            options["url_file"] = _path(context.base_dir, options["url_file"])
        if options.get("url"):
            url = options["url"]
            if not isinstance(url, str) or "://" not in url:
                raise ConfigError(f"{where}.url: '{url}' is not a database URL (postgresql://… or sqlite:///PATH)")
            if _has_password(url):
                raise ConfigError(f"{where}.url: holds a password; put the URL in an environment variable (url_env)")
            if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
                options["url"] = f"sqlite:///{_path(context.base_dir, url[len('sqlite:///'):])}"
        for key in ("table", "schema"):
            value = options.get(key)
            if value is not None and (not isinstance(value, str) or not value.replace("_", "").isalnum()):
                raise ConfigError(f"{where}.{key}: must be a plain SQL name (letters, digits, _)")
        options.setdefault("table", "immex_documents")
        return options

    def __init__(self, config: SinkConfig) -> None:
        options = config.options
        self.name = config.name
        url = options.get("url") or read_secret(options, f"sink '{config.name}'", "url")
        if not url:  # check_options requires one of url, url_env, url_file
            raise ConfigError(f"sink '{config.name}'.url: give one of url, url_env or url_file")
        self.engine = sa.create_engine(driver_url(url), pool_pre_ping=True)
        self.table = table(options.get("table", "immex_documents"), options.get("schema"))
        self._ready = False
        self._lock = threading.Lock()

    def deliver(self, item: Outgoing) -> None:
        envelope = item.canonical
        source = envelope.get("source") or {}
        row = {
            "id": item.id, "kind": item.kind, "model_version": envelope.get("model_version", ""),
            "business_key": item.business_key, "source_name": source.get("name", ""),
            "source_filename": source.get("filename", item.original_name), "source_sha256": source.get("sha256", ""),
            "received_at": datetime.fromisoformat(source["received_at"]), "record": envelope.get("record"),
            "document": envelope,
        }
        try:
            self._create_table()
            with self.engine.begin() as connection:
                connection.execute(self._insert(), row)
        except (sa_exc.IntegrityError, sa_exc.DataError) as exc:
            raise SinkError(f"la base de datos rechazó el registro: {_message(exc)}", retryable=False) from None
        except sa_exc.SQLAlchemyError as exc:
            raise SinkError(f"base de datos no disponible: {_message(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    def _insert(self) -> sa.sql.Insert:
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(self.table).on_conflict_do_nothing(index_elements=["id"])
        if dialect == "sqlite":
            return sqlite.insert(self.table).on_conflict_do_nothing(index_elements=["id"])
        raise SinkError(f"database '{dialect}' is not supported (postgresql, sqlite)", retryable=False)

    def _create_table(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self.table.create(self.engine, checkfirst=True)
                self._ready = True


def driver_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (the driver installed with the gateway)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _message(exc: sa_exc.SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0][:300]


def _has_password(url: str) -> bool:
    rest = url.split("://", 1)[1]
    userinfo = rest.split("@", 1)[0] if "@" in rest.split("/", 1)[0] else ""
    return ":" in userinfo
