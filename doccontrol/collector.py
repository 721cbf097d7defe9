"""When Python's garbage collector runs: seldom through what a command keeps.

A proof of 5,000 documents makes millions of objects (statements, records, documents) that live
until the command ends, and almost no garbage. With Python's default thresholds the collector
goes through all of them again each time its oldest generation has grown by a quarter: eight
full rounds took a third of a warm proof at 5,000 documents. Young rounds stay as they are: they
are cheap, and they free at once the reference cycles a rejected input leaves (an exception
holds the frames that raised it, and those hold the text that was read), so no input can make a
command keep what it read, however much of it is refused.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# The middle generation is gone through every 100 young rounds (Python: 10) and the oldest every 100 rounds of
# the middle one (Python: 10, then only once it has grown by a quarter): 1/10 and about 1/100 as often.
OLDER_THRESHOLDS = (100, 100)


@contextlib.contextmanager
def for_a_command() -> Iterator[None]:
    """The older generations gone through as seldom as OLDER_THRESHOLDS say while the block runs (the previous
    thresholds after it, however it ends)."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], *OLDER_THRESHOLDS)
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


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """What is alive when the block starts lives until it ends (the publication and the proven record while the
    site is rendered): collection rounds leave it out (gc.freeze) until then."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
