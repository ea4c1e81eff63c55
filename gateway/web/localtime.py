"""Times as the operators live them: the store keeps UTC instants; the page shows and filters them in the
plant's zone (``[web] timezone``, default ``America/Mexico_City``), always labelled.

A file that arrived at 07:14 in Monterrey is 13:14 UTC; shown in UTC it looks six hours late and an evening
arrival falls on "tomorrow". Days in the filters and the overview are local days, turned into UTC instants
before they reach the store, so the queries keep using the ``received_at`` index.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "America/Mexico_City"


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` when the machine does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(name) from exc


def parse(stamp: str | None) -> datetime | None:
    """A stored instant (``2026-12-03T13:14:05.123456Z``, or any ISO form) as an aware UTC datetime."""
    if not stamp:
        return None
    try:
        value = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def instant(moment: datetime) -> str:
    """An aware datetime in the store's own form (fixed width: compared as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LocalTime:
    def __init__(self, name: str = DEFAULT_ZONE) -> None:
        self.name = name
        self.zone = zone(name)

    def local(self, stamp: str | None) -> datetime | None:
        value = parse(stamp)
        return value.astimezone(self.zone) if value else None

    def show(self, stamp: str | None, seconds: bool = False) -> str:
        """``03/12/2026 07:14`` (day/month/year, 24 h, no microseconds), or ``—``."""
        value = self.local(stamp)
        if value is None:
            return "—"
        return value.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")

    def offset(self, when: datetime | None = None) -> str:
        """``UTC−06:00`` now (or at ``when``)."""
        delta = (when or datetime.now(UTC)).astimezone(self.zone).utcoffset() or timedelta(0)
        minutes = int(delta.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "−"
        return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def label(self) -> str:
        return f"{self.name.replace('_', ' ')} ({self.offset()})"

    def day_start(self, day: date) -> str:
        """The UTC instant at which local ``day`` begins."""
        return instant(datetime.combine(day, time(0), self.zone))

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def day_of(self, stamp: str) -> str:
        """The local day (``YYYY-MM-DD``) of a stored instant or of a UTC hour (``2026-12-03T13``)."""
        value = parse(stamp if len(stamp) > 13 else stamp + ":00:00Z")
        return value.astimezone(self.zone).date().isoformat() if value else stamp[:10]
