"""What the pedimento kinds take from the configuration: company, IMMEX program, tolerances, catalogs folder,
staging dir."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.kinds.pedimento.clock import CompanyFacts
from gateway.kinds.pedimento.rules import RuleContext, Tolerances

if TYPE_CHECKING:
    from gateway.config import Settings


def rule_context(settings: Settings | None) -> RuleContext:
    """Without settings (``validate`` with no ``-c``) the company checks are skipped, the tolerances default."""
    if settings is None:
        return RuleContext()
    values = settings.tolerances or {}
    defaults = Tolerances()
    tolerances = Tolerances(usd=Decimal(values.get("usd", defaults.usd)), mxn=Decimal(values.get("mxn", defaults.mxn)),
                            relative=Decimal(values.get("relative", defaults.relative)))
    facts = CompanyFacts(settings.immex.program_valid_until, settings.immex.certified)
    return RuleContext(settings.company_rfc, settings.immex_program, tolerances, facts, settings.catalogs_dir)


def staging_dir(settings: Settings | None) -> Path | None:
    """Data Stage staging files go under ``data_dir/staging``; the system temp dir without settings."""
    return settings.staging_dir / "datastage" if settings is not None else None
