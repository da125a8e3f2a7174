"""Read a case file safely: a regular file or stdin, of bounded size, in UTF-8.

Standard library only. A FIFO, a device (``/dev/zero``), a directory or a socket is refused
at once (opening never waits for a FIFO's writer), and nothing larger than
``MAX_FILE_BYTES`` is read, so a case file can neither hang the run nor fill the memory.
"""

from __future__ import annotations

import os
import stat
import sys

from gradcheck_cli.errors import CaseFileError

__all__ = ["MAX_FILE_BYTES", "read_text"]

MAX_FILE_BYTES = 10 * 1024 * 1024  # a case file larger than this is refused


def read_text(path: str) -> str:
    """The text of a case file (``"-"``: stdin): a regular file (never a FIFO or a device,
    which could block or never end) of at most ``MAX_FILE_BYTES``, in UTF-8."""
    source = "<stdin>" if path == "-" else str(path)
    try:
        data = _read_stdin() if path == "-" else _read_file(path)
    except OSError as exc:
        raise CaseFileError([f"{source}: cannot read file: {exc.strerror or exc}"]) from exc
    except ValueError as exc:
        raise CaseFileError([f"{source}: cannot read file: {exc}"]) from exc
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise CaseFileError([f"{source}: cannot read file: larger than {limit} MB"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseFileError(
            [f"{source}: cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start})"]
        ) from exc


def _read_stdin() -> bytes:
    if sys.stdin is None or getattr(sys.stdin, "closed", False):
        raise ValueError("standard input is closed")
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        return sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8")
    return stream.read(MAX_FILE_BYTES + 1)


_KINDS = {
    stat.S_ISDIR: "a directory",
    stat.S_ISFIFO: "a FIFO",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
}


def _read_file(path: str) -> bytes:
    # O_NONBLOCK: opening a FIFO with no writer must not wait for one
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS.items() if test(mode)), "special")
            raise ValueError(f"not a regular file ({kind}); use --file - for a pipe")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read(MAX_FILE_BYTES + 1)
    finally:
        if fd >= 0:
            os.close(fd)
