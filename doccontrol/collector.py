"""When Python's garbage collector runs: seldom while a command builds what it keeps.

A proof of 5,000 documents makes millions of objects (statements, records, documents) that live
until the command ends, and almost no garbage. With Python's default thresholds the collector
goes through all of them again each time the oldest generation has grown by a quarter: eight
full rounds took a third of a warm proof at 5,000 documents, and a tenth of a cold `verify`.
Reference counting frees what is dropped either way; only cycles wait for a round.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# A young round every 100,000 new objects (not 700); the middle and the oldest generation a hundred times
# more seldom than by default, so that a command's oldest generation, which holds what it keeps, is in
# practice never gone through (a command ends with os._exit, not by freeing its objects one by one).
COMMAND_THRESHOLDS = (100_000, 100, 100)


@contextlib.contextmanager
def for_a_command() -> Iterator[None]:
    """Collection rounds as seldom as COMMAND_THRESHOLDS while the block runs (the previous thresholds after)."""
    before = gc.get_threshold()
    gc.set_threshold(*COMMAND_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collection rounds in the block, which makes many objects at once and no garbage (unpickling a cache)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
