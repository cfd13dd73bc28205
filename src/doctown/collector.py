"""Pausing Python's cyclic garbage collector while large results are built or read.

Each collection walks every live object, so collections triggered by allocation make building
a large result quadratic in practice: decoding a standard-library analysis snapshot takes 3.2 s
with the collector on and 1.0 s with it off; reading a pack of 11,000 symbols 1.1 s and 0.6 s.
What these phases build holds no reference cycles worth collecting, and reference counting
still frees everything else at once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector resumes as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
