"""The current date and time. DOCCONTROL_NOW (ISO date-time) pins it, for tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import os


def now() -> dt.datetime:
    pinned = os.environ.get("DOCCONTROL_NOW")
    if pinned:
        value = dt.datetime.fromisoformat(pinned)
        return value if value.tzinfo else value.astimezone()
    return dt.datetime.now().astimezone().replace(microsecond=0)


def today() -> dt.date:
    return now().date()
