"""Worker processes for batch runs: nothing a worker does loses more than the case it ran.

Each worker has its own pipe (no lock shared between processes, which a killed process could
leave held). The parent hands a worker one chunk of cases at a time (cases of one model, so
the model is prepared once per chunk); the worker says ``("ready", None)`` once started, and
sends each case's outcome as it finishes: the case running is the chunk's first unfinished one,
since a worker runs its chunk in order (one message a case: each wakes the parent, which then
takes a core from a worker). When a worker dies (killed, out of memory, a crash in native
code), the outcomes it sent are kept, the case it was running becomes an error
(``worker died (signal 9)``), the rest of its chunk goes back to the queue, and a fresh
worker takes over. A worker stuck in native code past its case's time limit (where SIGALRM
cannot reach Python) is killed by the parent: that case ``timed out``.

Workers ignore SIGINT: on Ctrl-C the parent stops them and raises KeyboardInterrupt.
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["GRACE", "run_pool"]

GRACE = 10.0  # seconds past a case's own time limit before the parent kills its worker
_START_FAILURES = 3  # workers that die before running anything: give up then


def _context() -> Any:
    import multiprocessing

    # torch and fork do not mix: workers fork from a clean server that has imported the heavy
    # modules once (forkserver), or start afresh (spawn) where forkserver is missing
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["gradcheck_cli.batch.warm"])
        return context
    return multiprocessing.get_context("spawn")


def worker_main(conn: Any, runner_factory: Callable[[], Any], init: Any) -> None:
    """A worker: run each chunk it is sent, case by case, reporting as it goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if init is not None:
        init()
    runner = runner_factory()
    conn.send(("ready", None))  # a death from now on is the running case's
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for index, spec in chunk:  # in order: the parent knows which case runs
            conn.send(("done", runner.run(index, spec)))
        conn.send(("idle", None))


class _Worker:
    def __init__(self, context: Any, runner: Any, init: Any) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=worker_main, args=(child, runner, init))
        self.process.daemon = True
        self.process.start()
        child.close()
        self.chunk: list[Any] = []  # cases handed over and not finished
        self.busy = False  # a chunk handed over and not yet answered with "idle"
        self.started = 0.0  # when its running case started (the last outcome or chunk)
        self.ran = False  # it is ready: it runs its cases (else it died starting up)

    @property
    def current(self) -> tuple[int, Any] | None:
        """The case it runs: the first unfinished one of its chunk, once it is ready."""
        return self.chunk[0] if self.ran and self.chunk else None

    def give(self, chunk: list[Any]) -> None:
        self.chunk, self.busy, self.started = list(chunk), True, time.monotonic()
        self.conn.send(chunk)

    def overdue(self, now: float) -> bool:
        if self.current is None:
            return False
        limit = getattr(self.current[1], "timeout", None)
        return bool(limit) and now - self.started > limit + GRACE

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def run_pool(
    chunks: list[list[tuple[int, Any]]],
    workers: int,
    *,
    runner: Callable[[], Any],
    emit: Callable[[Any], None],
    lost: Callable[[int, Any, str, float], Any],
    worker_init: Callable[[], None] | None = None,
) -> None:
    """Run ``chunks`` of (index, spec) in up to ``workers`` processes; ``emit`` each outcome
    as it arrives (any order); ``lost(index, spec, message, seconds)`` makes the outcome of a
    case whose worker died."""
    from multiprocessing.connection import wait

    context = _context()
    queue = deque(chunks)
    pool: list[_Worker] = []
    failures = 0
    try:
        while queue or any(w.busy for w in pool):
            while queue and len(pool) < workers:
                pool.append(_Worker(context, runner, worker_init))
            for worker in pool:
                if not worker.busy and queue:
                    worker.give(queue.popleft())
            waiting = [w.conn for w in pool] + [w.process.sentinel for w in pool]
            ready = set(wait(waiting, timeout=1.0))
            now = time.monotonic()
            for worker in list(pool):
                alive = worker.process.sentinel not in ready
                if worker.conn in ready and not _read(worker, emit):
                    alive = False
                if alive and worker.overdue(now):
                    worker.process.kill()
                    worker.process.join()
                    alive, why = False, f"timed out after {worker.current[1].timeout:g} s"
                else:
                    why = ""
                if alive:
                    continue
                _drain(worker, emit)
                worker.stop()
                pool.remove(worker)
                failures = 0 if worker.ran else failures + 1
                why = why or _death(worker.process.exitcode, worker.ran)
                if worker.current is not None:
                    index, spec = worker.current
                    emit(lost(index, spec, why, now - worker.started))
                    worker.chunk = [c for c in worker.chunk if c[0] != index]
                if worker.chunk:
                    if failures >= _START_FAILURES:
                        for index, spec in worker.chunk:
                            emit(lost(index, spec, why, 0.0))
                    else:
                        queue.appendleft(worker.chunk)
            if failures >= _START_FAILURES:
                while queue:
                    for index, spec in queue.popleft():
                        emit(lost(index, spec, "worker could not start", 0.0))
    finally:
        for worker in pool:
            worker.stop()


def _read(worker: _Worker, emit: Callable[[Any], None]) -> bool:
    """Handle every message waiting from ``worker``; False once its pipe is closed."""
    try:
        while worker.conn.poll():
            kind, value = worker.conn.recv()
            if kind == "ready":
                worker.ran, worker.started = True, time.monotonic()
            elif kind == "done":
                worker.chunk = [c for c in worker.chunk if c[0] != value.index]
                worker.started = time.monotonic()  # the chunk's next case starts
                emit(value)
            else:  # idle: the chunk is done
                worker.chunk, worker.busy = [], False
    except (EOFError, OSError):
        return False
    return True


def _drain(worker: _Worker, emit: Callable[[Any], None]) -> None:
    """Keep what a dead worker sent before it died."""
    _read(worker, emit)


def _death(exitcode: int | None, ran: bool) -> str:
    what = "worker died" if ran else "worker could not start"
    if exitcode is not None and exitcode < 0:
        return f"{what} (signal {-exitcode})"
    return f"{what} (exit code {exitcode})"
