"""The lifted catalogs read back from the disk cache are exactly what reading SAT's files gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.kinds.cfdi import liftcache, xsd
from gateway.kinds.cfdi.satfiles import cfd_path, default_root


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return sorted(cfd_path(default_root(), "catalogos").rglob("*.xsd"))


@pytest.mark.parametrize("replacements", [
    {},
    {"c_ClaveProdServ": frozenset({"01010101"})},              # a big catalog: lifted anyway, values swapped
    {"c_Moneda": frozenset({"MXN"}), "c_Pais": frozenset({"MEX"})},
    {"c_Exportacion": frozenset({"01"})},                      # a small one: the files are read again
    {"not-a-catalog": frozenset({"x"})},
])
def test_cached_equals_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: list[Path],
                             replacements: dict[str, frozenset[str]]) -> None:
    monkeypatch.setenv("IMMEX_GATEWAY_CACHE", str(tmp_path))
    fresh = xsd._strip(files, replacements)[:2]
    first = xsd._strip_large_enumerations(default_root(), replacements)   # computes and writes the cache
    assert list(tmp_path.glob("lifted-*.marshal"))
    second = xsd._strip_large_enumerations(default_root(), replacements)  # reads it back
    assert first == fresh and second == fresh


def test_unusable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: list[Path]) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("IMMEX_GATEWAY_CACHE", str(blocked))
    assert xsd._strip_large_enumerations(default_root(), {}) == xsd._strip(files, {})[:2]
    monkeypatch.setenv("IMMEX_GATEWAY_CACHE", str(tmp_path / "c"))
    name = liftcache.key(files, xsd.ENUM_THRESHOLD)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / f"lifted-{name}.marshal").write_bytes(b"\x00garbage")
    assert liftcache.load(name) is None
    assert xsd._strip_large_enumerations(default_root(), {}) == xsd._strip(files, {})[:2]
    monkeypatch.setenv("IMMEX_GATEWAY_CACHE", "off")
    assert liftcache.folder() is None


def test_key_follows_the_files(tmp_path: Path) -> None:
    catalog = tmp_path / "cat.xsd"
    catalog.write_text("<a/>")
    before = liftcache.key([catalog], 100)
    catalog.write_text("<ab/>")
    assert liftcache.key([catalog], 100) != before
    assert liftcache.key([catalog], 100) != liftcache.key([catalog], 30)
