"""immex-gateway: the front door of an IMMEX Annex 24 inventory system.

For Python programs: ``from gateway import validate`` (gateway/library.py) checks a document as the gateway
does. Importing ``gateway`` alone loads nothing else, so ``gateway.config`` and the CLI stay quick to start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.library import Validation, Validator, validate

__all__ = ["Validation", "Validator", "validate", "__version__"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("immex-gateway")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name in ("validate", "Validator", "Validation"):
        from gateway import library

        return getattr(library, name)
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'gateway' has no attribute {name!r}")
