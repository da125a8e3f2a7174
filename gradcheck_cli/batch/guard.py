"""Keep one check from taking the run down: time limits and unexpected exceptions.

``time_limit`` interrupts the check running in this thread after its time (SIGALRM through
``signal.setitimer``), including long mpmath arithmetic, by raising ``TimeLimit`` (a
BaseException, so no ``except Exception`` of the core swallows it). Where there is no
SIGALRM, or off the main thread (signals are delivered to the main thread only), it does
nothing: the check runs without a limit. A handler and timer installed before (for example
pytest-timeout's) are put back afterwards. The alarm repeats every ``RETRY`` seconds until the
limit is left: Python swallows an exception raised where it cannot propagate (``__del__``, a
garbage collector callback), so an alarm that lands there is followed by another; one that
lands in a garbage collector callback (hypothesis installs one) does not raise there at all.

``internal_error`` turns an unexpected exception (a bug) into an ``InternalError`` whose
message names the stage it came from and whose ``detail`` is its traceback.

Standard library only; no printing.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from gradcheck_cli.errors import InternalError, TimeLimit

__all__ = ["can_time_out", "internal_error", "stage_of", "time_limit"]

_PACKAGE = Path(__file__).resolve().parent.parent
RETRY = 0.1  # seconds between alarms once the time is up (an alarm may be swallowed)


def can_time_out() -> bool:
    """Whether ``time_limit`` can interrupt a check here (SIGALRM on the main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``TimeLimit(seconds)`` in this thread once ``seconds`` have passed (0 or None:
    no limit)."""
    if not seconds or not can_time_out():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        if not _in_gc_callback(frame):  # there it would be swallowed: the next alarm raises
            raise TimeLimit(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds, RETRY)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # someone else's timer was running: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def _in_gc_callback(frame: FrameType | None) -> bool:
    codes = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None and codes:
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


def stage_of(exc: BaseException) -> str:
    """The gradcheck module the exception came from (its innermost frame in the package),
    e.g. ``exact.evaluate``; ``gradcheck`` if none."""
    stage = "gradcheck"
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            relative = Path(frame.filename).resolve().relative_to(_PACKAGE)
        except ValueError:
            continue
        stage = ".".join(relative.with_suffix("").parts) or stage
    return stage


def internal_error(exc: BaseException) -> InternalError:
    """``internal error in <stage>: <Type>: <message>``, the traceback as its detail."""
    text = str(exc).strip().splitlines()
    message = f"internal error in {stage_of(exc)}: {type(exc).__name__}"
    if text:
        message += f": {text[0][:300]}"
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return InternalError(message, detail)
