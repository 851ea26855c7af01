"""Offline handwriting recognition: Zinnia (Debian's libzinnia0) with the Simplified Chinese
model of tegaki-zinnia-simplified-chinese, called through the library's C API with ctypes.

The model (27 MB) is opened once per process, on the first request that needs it, and memory-
mapped read-only by the library: its pages are the shared page cache of the model file, not the
process's own heap. Zinnia's classify only reads the model, so threads share one recognizer;
ctypes releases the GIL for the call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
from functools import lru_cache

log = logging.getLogger(__name__)

DEFAULT_MODEL = "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model"
MAX_CANDIDATES = 10
# Zinnia works on integer coordinates; strokes are scaled into a box this size.
BOX = 1000


class Unavailable(RuntimeError):
    """The library or the model is missing or unreadable: the writing pad is not offered."""


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("zinnia")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    c_void_p, c_size_t = ctypes.c_void_p, ctypes.c_size_t
    signatures = {
        "zinnia_recognizer_new": ([], c_void_p),
        "zinnia_recognizer_open": ([c_void_p, ctypes.c_char_p], ctypes.c_int),
        "zinnia_recognizer_strerror": ([c_void_p], ctypes.c_char_p),
        "zinnia_recognizer_classify": ([c_void_p, c_void_p, c_size_t], c_void_p),
        "zinnia_recognizer_destroy": ([c_void_p], None),
        "zinnia_character_new": ([], c_void_p),
        "zinnia_character_set_width": ([c_void_p, c_size_t], None),
        "zinnia_character_set_height": ([c_void_p, c_size_t], None),
        "zinnia_character_add": ([c_void_p, c_size_t, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "zinnia_character_destroy": ([c_void_p], None),
        "zinnia_result_value": ([c_void_p, c_size_t], ctypes.c_char_p),
        "zinnia_result_size": ([c_void_p], c_size_t),
        "zinnia_result_destroy": ([c_void_p], None),
    }
    for fname, (args, res) in signatures.items():
        fn = getattr(lib, fname)
        fn.argtypes, fn.restype = args, res
    return lib


def available(model: str = DEFAULT_MODEL) -> bool:
    """The library is installed and the model file is there (cheap: nothing is loaded)."""
    return os.path.isfile(model) and _library() is not None


class Recognizer:
    """One opened model. ``classify`` is safe to call from several threads at once."""

    def __init__(self, model: str):
        lib = _library()
        if lib is None or not os.path.isfile(model):
            raise Unavailable(model)
        self._lib = lib
        self._handle = lib.zinnia_recognizer_new()
        if not lib.zinnia_recognizer_open(self._handle, os.fsencode(model)):
            reason = lib.zinnia_recognizer_strerror(self._handle) or b""
            lib.zinnia_recognizer_destroy(self._handle)
            raise Unavailable(f"{model}: {reason.decode(errors='replace')}")

    def close(self) -> None:
        """Give the model back (its mapped pages leave the process's memory)."""
        if self._handle:
            self._lib.zinnia_recognizer_destroy(self._handle)
            self._handle = None

    def classify(self, width: float, height: float,
                 strokes: list[list[tuple[float, float]]]) -> list[str]:
        """The best candidates for the strokes, best first (at most MAX_CANDIDATES)."""
        lib = self._lib
        scale = BOX / max(width, height)   # keep the aspect: Zinnia divides by width and height
        character = lib.zinnia_character_new()
        try:
            lib.zinnia_character_set_width(character, max(1, round(width * scale)))
            lib.zinnia_character_set_height(character, max(1, round(height * scale)))
            for i, stroke in enumerate(strokes):
                for x, y in stroke:
                    lib.zinnia_character_add(character, i, round(x * scale), round(y * scale))
            result = lib.zinnia_recognizer_classify(self._handle, character, MAX_CANDIDATES)
        finally:
            lib.zinnia_character_destroy(character)
        if not result:
            return []
        try:
            values = (lib.zinnia_result_value(result, i) for i in range(lib.zinnia_result_size(result)))
            return list(dict.fromkeys(v.decode("utf-8") for v in values if v))[:MAX_CANDIDATES]
        finally:
            lib.zinnia_result_destroy(result)


_recognizers: dict[str, Recognizer] = {}
_lock = threading.Lock()
_last_used: dict[str, float] = {}
_in_use: dict[str, int] = {}
IDLE_CLOSE_SECONDS = 300     # the model's 26 MB of mapped pages are given back after this idle time


def recognizer(model: str = DEFAULT_MODEL) -> Recognizer:
    """The process's recognizer for ``model``, opened on first use (Unavailable if it cannot)."""
    found = _recognizers.get(model)
    if found is None:
        with _lock:
            found = _recognizers.get(model)
            if found is None:
                found = _recognizers[model] = Recognizer(model)
                log.info("handwriting model opened: %s", model)
    return found


def classify(model: str, width: float, height: float, strokes) -> list[str]:
    """Candidates from the shared recognizer. A terminal's memory matters more than 50 ms once
    in a while: after IDLE_CLOSE_SECONDS without a stroke the model is closed, and the next
    stroke opens it again."""
    with _lock:
        _in_use[model] = _in_use.get(model, 0) + 1
    try:
        return recognizer(model).classify(width, height, strokes)
    finally:
        with _lock:
            _in_use[model] -= 1
            _last_used[model] = time.monotonic()
        _schedule_close(model)


_timers: dict[str, threading.Timer] = {}


def _schedule_close(model: str, after: float | None = None) -> None:
    """One pending check per model (not one per stroke)."""
    with _lock:
        if model in _timers:
            return
        timer = _timers[model] = threading.Timer(IDLE_CLOSE_SECONDS if after is None else after,
                                                 _timed_check, args=(model,))
    timer.daemon = True
    timer.start()


def _timed_check(model: str) -> None:
    with _lock:
        _timers.pop(model, None)
        left = IDLE_CLOSE_SECONDS - (time.monotonic() - _last_used.get(model, 0))
    if not close_if_idle(model) and model in _recognizers:
        _schedule_close(model, max(1.0, left))


def close_if_idle(model: str, idle: float | None = None) -> bool:
    """Close the model when nobody is writing and it has not been used for ``idle`` seconds."""
    idle = IDLE_CLOSE_SECONDS if idle is None else idle
    with _lock:
        found = _recognizers.get(model)
        if found is None or _in_use.get(model, 0) or time.monotonic() - _last_used.get(model, 0) < idle:
            return False
        del _recognizers[model]
        found.close()
    log.info("handwriting model closed after %d s idle", idle)
    return True
