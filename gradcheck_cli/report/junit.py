"""Write JUnit XML reports (one <testsuite> inside <testsuites>), atomically.

Standard library only. Text that XML 1.0 cannot carry (control characters other than
tab/newline/carriage return, lone surrogates, U+FFFE/U+FFFF) is replaced by a visible
escape such as ``\\x1b`` so reports always parse.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["OUTCOMES", "JUnitCase", "build_junit", "write_junit", "xml_safe"]

OUTCOMES = ("passed", "failed", "error", "skipped")

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class JUnitCase:
    """One test case result. ``message`` is a one-line summary, ``text`` the details."""

    classname: str
    name: str
    time_s: float
    outcome: str  # one of OUTCOMES
    message: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"JUnitCase outcome must be one of {OUTCOMES}, got {self.outcome!r}")


def xml_safe(text: object) -> str:
    """Return ``str(text)`` with characters XML 1.0 forbids replaced by ``\\xNN``/``\\uNNNN``."""
    return _INVALID_XML.sub(_escape_char, str(text))


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _seconds(value: float) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "0.000"
    return f"{value:.3f}" if math.isfinite(value) and value >= 0 else "0.000"


def _counts(cases: Sequence[JUnitCase]) -> dict[str, str]:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.outcome == "failed" for c in cases)),
        "errors": str(sum(c.outcome == "error" for c in cases)),
        "skipped": str(sum(c.outcome == "skipped" for c in cases)),
    }


def build_junit(suite_name: str, cases: Sequence[JUnitCase], time_s: float) -> ET.Element:
    """Build the <testsuites> element for ``cases`` (all text made XML-safe)."""
    counts = _counts(cases)
    root = ET.Element("testsuites", name=xml_safe(suite_name), time=_seconds(time_s), **counts)
    suite = ET.SubElement(
        root, "testsuite", name=xml_safe(suite_name), time=_seconds(time_s), **counts
    )
    tags = {"failed": "failure", "error": "error", "skipped": "skipped"}
    for case in cases:
        element = ET.SubElement(
            suite,
            "testcase",
            classname=xml_safe(case.classname),
            name=xml_safe(case.name),
            time=_seconds(case.time_s),
        )
        if case.outcome in tags:
            child = ET.SubElement(element, tags[case.outcome], message=xml_safe(case.message))
            child.text = xml_safe(case.text) if case.text else None
        elif case.text:
            ET.SubElement(element, "system-out").text = xml_safe(case.text)
    ET.indent(root)
    return root


def write_junit(
    path: str | os.PathLike[str], suite_name: str, cases: Sequence[JUnitCase], time_s: float
) -> None:
    """Write the report to ``path`` atomically: temp file in the same directory + os.replace.
    A symlink at ``path`` stays a symlink: the file it points to is replaced.

    On any exception the temp file is removed and an existing file at ``path`` is untouched.
    """
    tree = ET.ElementTree(build_junit(suite_name, cases, time_s))
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(os.path.abspath(target))
    fd, temp = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            tree.write(handle, encoding="utf-8", xml_declaration=True)
            handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        _copy_mode(target, temp)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _copy_mode(target: str, temp: str) -> None:
    """Give the new file the old file's mode, else rw-r--r-- (mkstemp makes it 0600)."""
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = 0o644
    os.chmod(temp, mode)
