"""Keeping the serve process's memory flat on glibc.

glibc gives each thread that allocates its own malloc arena (up to eight per core) and
hands little of an arena's freed memory back to the system. Waitress answers from a pool
of threads; each cold render of a large page (a county's guide list, a village's aligned
tables) leaves megabytes resident in that thread's arena, and the terminal's RSS climbs by
tens of MB under load (docs/benchmarks.md). Two arenas, as MALLOC_ARENA_MAX=2 would set,
keep it flat at no measurable cost in speed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8     # mallopt parameter number, glibc's malloc.h


def limit_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for threads started from now on; False where not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):      # musl, macOS: nothing to do
        log.debug("mallopt not available")
        return False
