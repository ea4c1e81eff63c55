"""SAT's CFDI 4.0 and Comercio Exterior catalogs with the columns the error matrices cross-check.

The matrix rules need more than "is the value in the catalog" (the XSD does that): the state
of a postal code, the colonias of a postal code, municipios and localidades by state, the
decimals of a currency, the person type of a régimen, the usos allowed per régimen. Most of
it comes from the SQLite catalog database the ``satcfdi`` wheel ships (read directly, without
importing satcfdi, whose import is heavy); the few columns it lacks come from a small
versioned extract in ``data/catalog_extras.json``. The small catalogs are loaded lazily, once per
process, into plain dicts and sets so that a rule's lookup costs a hash; the four big ones (postal
codes, colonias, ClaveProdServ, fracciones: 320k rows, over a second to load) are read key by key
through the database's index and each answer is kept, so start-up stays at a tenth of a second.

Catalogs an operator imported from SAT's own files (``immex-gateway catalogs import``, package
``gateway.kinds.satcatalogs``) replace the wheel's catalog by catalog: ``catalogs(directory)`` overlays the set
in force in that folder and is rebuilt when a newer set appears there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import pickle
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.errors import ReferenceDataError
from gateway.kinds.satcatalogs import imported as imported_sets

EXTRAS_PATH = Path(__file__).resolve().parent / "data" / "catalog_extras.json"

#: catalog name -> table in satcfdi's catalogs.db
_TABLES = {
    "c_ClaveProdServ": "C756_c_ClaveProdServ",
    "c_ClaveUnidad": "C756_c_ClaveUnidad",
    "c_CodigoPostal": "C756_c_CodigoPostal",
    "c_Colonia": "C756_c_Colonia",
    "c_Estado": "C756_c_Estado",
    "c_Exportacion": "C756_c_Exportacion",
    "c_FormaPago": "C756_c_FormaPago",
    "c_Impuesto": "C756_c_Impuesto",
    "c_Localidad": "C756_c_Localidad",
    "c_Meses": "C756_c_Meses",
    "c_MetodoPago": "C756_c_MetodoPago",
    "c_Moneda": "C756_c_Moneda",
    "c_Municipio": "C756_c_Municipio",
    "c_ObjetoImp": "C756_c_ObjetoImp",
    "c_Pais": "C756_c_Pais",
    "c_Periodicidad": "C756_c_Periodicidad",
    "c_RegimenFiscal": "C756_c_RegimenFiscal",
    "c_TipoDeComprobante": "C756_c_TipoDeComprobante",
    "c_TipoRelacion": "C756_c_TipoRelacion",
    "c_UsoCFDI": "C756_c_UsoCFDI",
    "c_FraccionArancelaria": "C5bc_c_FraccionArancelaria",
    "c_UnidadAduana": "C5bc_c_UnidadAduana",
    "c_MotivoTraslado": "C5bc_c_MotivoTraslado",
    "c_INCOTERM": "C5bc_c_INCOTERM",
}

#: catalogs whose columns the rules read; the others are only sets of codes (unpickling values costs time)
_WITH_VALUES = frozenset({"c_Estado", "c_Moneda"})


class CatalogsMissing(ReferenceDataError, RuntimeError):
    """satcfdi's catalog database cannot be found."""


class _PlainUnpickler(pickle.Unpickler):
    """The database holds strings, numbers, lists and tuples; refuse anything that would import code."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: ANN401
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in the catalog database")


def _plain(blob: bytes) -> Any:  # noqa: ANN401
    """Unpickle a catalog cell; short strings and pairs of them (most cells) are decoded directly, 5× faster."""
    quick = _short(blob)
    return quick if quick is not None else _PlainUnpickler(io.BytesIO(blob)).load()


_HEADER = 11  # PROTO 4, FRAME + 8-byte length


def _short(blob: bytes) -> str | tuple[str, str] | None:
    """A protocol-4 pickle of one short str, or of a 2-tuple of short strs; None for anything else."""
    if blob[:3] != b"\x80\x04\x95" or len(blob) < _HEADER + 4:
        return None
    first = _short_str(blob, _HEADER)
    if first is None:
        return None
    text, end = first
    if blob[end:] == b".":
        return text
    second = _short_str(blob, end)
    if second is None or blob[second[1]:] != b"\x86\x94.":
        return None
    return text, second[0]


def _short_str(blob: bytes, at: int) -> tuple[str, int] | None:
    """SHORT_BINUNICODE then MEMOIZE at ``at``: (the string, where the next opcode starts)."""
    if blob[at] != 0x8C:
        return None
    end = at + 2 + blob[at + 1]
    if blob[end:end + 1] != b"\x94":
        return None
    return blob[at + 2:end].decode("utf-8"), end + 1


def satcfdi_database() -> Path:
    spec = importlib.util.find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise CatalogsMissing("satcfdi is not installed: it provides SAT's catalog database")
    path = Path(next(iter(spec.submodule_search_locations))) / "catalogs" / "catalogs.db"
    if not path.is_file():
        raise CatalogsMissing(f"SAT catalog database not found at {path}")
    return path


#: big catalogs looked up key by key in the database instead of loaded at start-up
_INDEXED = frozenset({"c_ClaveProdServ", "c_CodigoPostal", "c_Colonia", "c_FraccionArancelaria"})
_CACHE_LIMIT = 300_000
_MISSING = object()


class Indexed:
    """A big catalog read through the database's primary-key index, each answer kept: nothing to load at start-up.

    satcfdi stores keys as ``pickle.dumps(key, protocol=4)``, so a key is found by the same bytes. One
    read-only connection per thread (SQLite connections are not shared across threads).
    """

    def __init__(self, database: Path, table: str, decode: Any = None) -> None:  # noqa: ANN401
        self.database, self.table, self.decode = database, table, decode
        self._cache: dict[Any, Any] = {}
        self._local = threading.local()
        self._sql = f'SELECT value FROM "{table}" WHERE key = ?'

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: ANN401
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = self._local.connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
            row = connection.execute(self._sql, (pickle.dumps(key, protocol=4),)).fetchone()
            value = None if row is None else (self.decode(_plain(row[0])) if self.decode else True)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[key] = value
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None


@dataclass(frozen=True)
class TasaOCuota:
    impuesto: str
    factor: str
    traslado: bool
    retencion: bool
    valores: frozenset[Decimal] = frozenset()
    rango: tuple[Decimal, Decimal] | None = None

    def admits(self, value: Decimal) -> bool:
        if self.rango is not None:
            return self.rango[0] <= value <= self.rango[1]
        return value in self.valores


@dataclass
class Catalogs:
    """Dict/set views of the catalogs; build with ``Catalogs.load()`` (or ``catalogs()`` for the shared one)."""

    codes: dict[str, frozenset[str]]
    moneda_decimales: dict[str, int]
    codigo_postal: Indexed | ImportedIndex  # cp -> (estado, municipio, localidad)
    colonias: Indexed | ImportedIndex  # (colonia, cp) in colonias
    estado_pais: dict[str, str]  # estado -> pais
    municipios: frozenset[tuple[str, str]]  # (municipio, estado)
    localidades: frozenset[tuple[str, str]]  # (localidad, estado)
    regimen_personas: dict[str, frozenset[str]]
    uso_personas: dict[str, frozenset[str]]
    uso_regimenes: dict[str, frozenset[str]]
    tasas: tuple[TasaOCuota, ...]
    impuesto_uso: dict[str, dict[str, bool]]
    tipo_factor: frozenset[str]
    pais_cp: dict[str, re.Pattern[str]]
    pais_taxid: dict[str, re.Pattern[str]]
    union_europea: frozenset[str]
    sources: list[dict[str, Any]] = field(default_factory=list)
    indexed: dict[str, Indexed | ImportedIndex] = field(default_factory=dict)
    #: the imported set overlaid on the wheel's catalogs (None: the wheel's only)
    imported: imported_sets.ImportedSet | None = None
    _tasa_cache: dict[tuple[str, str, Decimal, bool], bool] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, database: Path | None = None, extras: Path = EXTRAS_PATH,
             imported: imported_sets.ImportedSet | None = None) -> Catalogs:
        database = database or satcfdi_database()
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            rows = {name: [(_plain(k), _plain(v) if name in _WITH_VALUES else None)
                           for k, v in connection.execute(f'SELECT key, value FROM "{table}"')]
                    for name, table in _TABLES.items() if name not in _INDEXED}
            counts = {name: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                      for name, table in _TABLES.items()}
        finally:
            connection.close()
        extra = json.loads(extras.read_text(encoding="utf-8"))
        codes = {name: frozenset(k if isinstance(k, str) else k[0] for k, _ in data) for name, data in rows.items()}
        codes["c_TipoFactor"] = frozenset(extra["tipo_factor"])
        tasas = tuple(
            TasaOCuota(t["impuesto"], t["factor"], t["traslado"], t["retencion"],
                       frozenset(Decimal(v) for v in t.get("valores", ())),
                       tuple(Decimal(v) for v in t["rango"]) if "rango" in t else None)  # type: ignore[arg-type]
            for t in extra["tasa_o_cuota"]
        )
        uso = extra["uso_cfdi"]
        indexed = {name: Indexed(database, _TABLES[name], _codigo_postal if name == "c_CodigoPostal" else None)
                   for name in _INDEXED}
        version = _satcfdi_version()
        sources = [{"catalogs": sorted(_TABLES), "source": f"satcfdi {version} catalogs.db", "path": str(database),
                    "rows": counts},
                   {"catalogs": ["c_RegimenFiscal (persona)", "c_UsoCFDI (persona, régimen)", "c_TasaOCuota",
                                 "c_Impuesto (traslado/retención)", "c_TipoFactor", "c_Pais (patrones)",
                                 "c_Pais (Unión Europea)"],
                    "source": extra["source"], "version": extra["version"], "path": str(extras),
                    "rows": {"c_RegimenFiscal": len(extra["regimen_fiscal"]), "c_UsoCFDI": len(uso),
                             "c_TasaOCuota": len(tasas), "c_Pais": len(extra["pais"])}}]
        loaded = cls(
            codes=codes,
            moneda_decimales={k: int(v[1]) for k, v in rows["c_Moneda"]},
            codigo_postal=indexed["c_CodigoPostal"],
            colonias=indexed["c_Colonia"],
            estado_pais={k: v[0] for k, v in rows["c_Estado"]},
            municipios=frozenset(k for k, _ in rows["c_Municipio"]),
            localidades=frozenset(k for k, _ in rows["c_Localidad"]),
            regimen_personas={k: frozenset(v) for k, v in extra["regimen_fiscal"].items()},
            uso_personas={k: frozenset(v["personas"]) for k, v in uso.items()},
            uso_regimenes={k: frozenset(v["regimenes"]) for k, v in uso.items()},
            tasas=tasas,
            impuesto_uso=extra["impuesto"],
            tipo_factor=codes["c_TipoFactor"],
            pais_cp={k: re.compile(v["codigo_postal"]) for k, v in extra["pais"].items() if "codigo_postal" in v},
            pais_taxid={k: re.compile(v["num_reg_id_trib"]) for k, v in extra["pais"].items()
                        if "num_reg_id_trib" in v},
            union_europea=frozenset(extra["union_europea"]),
            sources=sources,
            indexed=indexed,  # type: ignore[arg-type]
        )
        loaded.wheel_rows = counts
        if imported is not None:
            loaded._overlay(imported)
        return loaded

    wheel_rows: dict[str, int] = field(default_factory=dict)

    def _overlay(self, imported: imported_sets.ImportedSet) -> None:
        """Every catalog of the imported set in place of the wheel's (codes, columns, big ones by key)."""
        self.imported = imported
        for name in imported.meta:
            if name in _INDEXED:
                decode = _codigo_postal_row if name == "c_CodigoPostal" else None
                self.indexed[name] = ImportedIndex(imported, name, decode)
                continue
            rows = imported.rows(name)
            self.codes[name] = frozenset(key[0] for key, _ in rows)
            if name == "c_Moneda":
                self.moneda_decimales = {k[0]: int(v["Decimales"]) for k, v in rows
                                         if v.get("Decimales", "").isdigit()}
            elif name == "c_Estado":
                self.estado_pais = {k[0]: k[1] for k, _ in rows}
            elif name == "c_Municipio":
                self.municipios = frozenset((k[0], k[1]) for k, _ in rows)
            elif name == "c_Localidad":
                self.localidades = frozenset((k[0], k[1]) for k, _ in rows)
        self.codigo_postal = self.indexed["c_CodigoPostal"]
        self.colonias = self.indexed["c_Colonia"]
        self.sources.insert(0, {"catalogs": sorted(imported.meta), "source": "importados / imported (catalogs import)",
                                "path": str(imported.path), "rows": {n: m.rows for n, m in imported.meta.items()}})

    def per_catalog(self, today: date | None = None) -> list[dict[str, Any]]:
        """Per catalog: source (wheel or imported file), SAT version, publication date, rows, age in days."""
        today = today or date.today()
        out = []
        for name in sorted(set(_TABLES) | set(self.imported.meta if self.imported else ())):
            meta = self.imported.meta.get(name) if self.imported else None
            if meta is not None:
                out.append({"catalog": name, **imported_sets.describe(meta, today)})
            else:
                out.append({"catalog": name, "source": f"wheel satcfdi {_satcfdi_version()}", "imported": False,
                            "version": None, "published": None, "rows": self.wheel_rows.get(name, 0),
                            "age_days": None})
        return out

    def has(self, catalog: str, value: str) -> bool:
        codes = self.codes.get(catalog)
        return value in codes if codes is not None else value in self.indexed[catalog]

    def tasa(self, impuesto: str, factor: str, value: Decimal, retencion: bool) -> bool:
        """Whether c_TasaOCuota admits ``value`` for this impuesto/factor as a traslado (or retención)."""
        key = (impuesto, factor, value, retencion)
        known = self._tasa_cache.get(key)
        if known is None:
            known = any(entry.impuesto == impuesto and entry.factor == factor
                        and (entry.retencion if retencion else entry.traslado) and entry.admits(value)
                        for entry in self.tasas)
            if len(self._tasa_cache) < 10000:
                self._tasa_cache[key] = known
        return known

    def info(self) -> list[dict[str, Any]]:
        """Source, version and row counts, for ``immex-gateway catalogs info``."""
        return [dict(s) for s in self.sources]


def _codigo_postal(value: list[str]) -> tuple[str, str, str]:
    return value[0], value[1], value[2]


def _codigo_postal_row(value: dict[str, str]) -> tuple[str, str, str]:
    return value.get("c_Estado", ""), value.get("c_Municipio", ""), value.get("c_Localidad", "")


class ImportedIndex:
    """A big catalog of an imported set, looked up key by key like ``Indexed`` (a pair key for c_Colonia)."""

    def __init__(self, imported: imported_sets.ImportedSet, catalog: str, decode: Any = None) -> None:  # noqa: ANN401
        self.imported, self.catalog, self.decode = imported, catalog, decode
        self._cache: dict[Any, Any] = {}

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: ANN401
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            first, second = (key[0], key[1]) if isinstance(key, tuple) else (key, "")
            row = self.imported.get(self.catalog, first, second) if isinstance(first, str) else None
            value = None if row is None else (self.decode(row) if self.decode else True)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[key] = value
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None


def _satcfdi_version() -> str:
    try:
        return importlib.metadata.version("satcfdi")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


_shared: Catalogs | None = None
_lock = threading.Lock()
_with_imports: dict[Path, Catalogs] = {}


def catalogs(directory: Path | None = None) -> Catalogs:
    """The process-wide catalogs, loaded on first use (the small ones; big ones are read key by key).

    With ``directory`` (``[validation] catalogs_dir``), the set imported there overlays the wheel's; a newer
    import there gives a new ``Catalogs`` (seen within two seconds, ``imported.current``).
    """
    global _shared
    found = imported_sets.current(directory)
    with _lock:
        if found is None or not found.meta:  # nothing imported, or only Anexo 22 appendices (the pedimento's)
            if _shared is None:
                _shared = Catalogs.load()
            return _shared
        assert directory is not None
        loaded = _with_imports.get(directory)
        if loaded is None or loaded.imported is not found:
            loaded = _with_imports[directory] = Catalogs.load(imported=found)
        return loaded
