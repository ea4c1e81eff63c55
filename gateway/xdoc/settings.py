"""``[correlation]``: what happens at ``correlation_timeout``, which kinds wait to be claimed, tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.xdoc.checks import Tolerances

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


def from_table(table: dict[str, Any]) -> CorrelationSettings:
    from gateway.config import ConfigError

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
