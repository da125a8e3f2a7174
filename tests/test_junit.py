"""Tests for gradcheck_cli.report.junit: reports are parsed back with ElementTree."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest

from gradcheck_cli.report import junit
from gradcheck_cli.report.junit import JUnitCase, write_junit

CASES = [
    JUnitCase("cases.toml", "tutorial", 0.25, "passed", "", ""),
    JUnitCase(
        "cases.toml",
        "sweep[seed=3]",
        0.5,
        "failed",
        "grad w differs",
        "autograd w = 1.0\nsympy w = 2.0",
    ),
    JUnitCase("cases.toml", "broken", 0.0, "error", "SympifyError", "Traceback ..."),
    JUnitCase("cases.toml", "later", 0.0, "skipped", "not run", ""),
]


def test_report_round_trips_counts_names_and_failure_text(tmp_path):
    target = tmp_path / "report.xml"
    write_junit(target, "gradcheck", CASES, 1.25)
    root = ET.parse(target).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "gradcheck"
    expected = {"tests": "4", "failures": "1", "errors": "1", "skipped": "1"}
    assert {k: suite.get(k) for k in expected} == expected
    assert {k: root.get(k) for k in expected} == expected
    assert suite.get("time") == "1.250"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["tutorial", "sweep[seed=3]", "broken", "later"]
    assert {c.get("classname") for c in cases} == {"cases.toml"}
    assert [c.get("time") for c in cases] == ["0.250", "0.500", "0.000", "0.000"]
    assert list(cases[0]) == []
    (failure,) = cases[1]
    assert failure.tag == "failure" and failure.get("message") == "grad w differs"
    assert failure.text == "autograd w = 1.0\nsympy w = 2.0"
    (error,) = cases[2]
    assert (error.tag, error.get("message"), error.text) == (
        "error",
        "SympifyError",
        "Traceback ...",
    )
    (skipped,) = cases[3]
    assert (skipped.tag, skipped.get("message")) == ("skipped", "not run")


def test_special_and_control_characters_are_escaped_or_replaced(tmp_path):
    message = 'a <b> & "c"\x1b[31m\x00 \ud800 tab\there'
    text = "line1\nx < y && z > 'q'\x07\r\nend \U0001f600"
    case = JUnitCase('cls<&>"', 'name "<&>"', 0.1, "failed", message, text)
    target = tmp_path / "report.xml"
    write_junit(target, 'suite <&>"', [case], 0.1)
    raw = target.read_bytes()
    assert b"\x1b" not in raw and b"\x00" not in raw and b"\x07" not in raw
    root = ET.parse(target).getroot()
    testcase = root.find("testsuite/testcase")
    assert root.find("testsuite").get("name") == 'suite <&>"'
    assert (testcase.get("classname"), testcase.get("name")) == ('cls<&>"', 'name "<&>"')
    failure = testcase.find("failure")
    assert failure.get("message") == 'a <b> & "c"\\x1b[31m\\x00 \\ud800 tab\there'
    # XML parsers normalise \r\n to \n in element text.
    assert failure.text == "line1\nx < y && z > 'q'\\x07\nend \U0001f600"


def test_passed_case_text_goes_to_system_out(tmp_path):
    target = tmp_path / "r.xml"
    write_junit(target, "s", [JUnitCase("c", "n", 1.0, "passed", "", "max error 1e-7")], 1.0)
    out = ET.parse(target).getroot().find("testsuite/testcase/system-out")
    assert out is not None and out.text == "max error 1e-7"


def test_bad_outcome_is_rejected():
    with pytest.raises(ValueError, match="outcome"):
        JUnitCase("c", "n", 0.0, "pass")


def test_failed_replace_leaves_no_partial_report_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "report.xml"
    seen = []

    def broken_replace(src, dst):
        seen.append(src)
        assert os.path.exists(src)  # the full report was written to the temp file first
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_junit(target, "s", CASES, 1.0)
    assert len(seen) == 1 and os.path.dirname(seen[0]) == str(tmp_path)
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_previous_report(tmp_path, monkeypatch):
    target = tmp_path / "report.xml"
    target.write_text("previous", encoding="utf-8")
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        write_junit(target, "s", CASES, 1.0)
    assert target.read_text(encoding="utf-8") == "previous"
    assert os.listdir(tmp_path) == ["report.xml"]


def test_overwrite_and_file_mode(tmp_path):
    target = tmp_path / "report.xml"
    write_junit(str(target), "first", CASES[:1], 0.0)
    assert target.stat().st_mode & 0o777 == 0o644
    write_junit(str(target), "second", CASES, 0.0)
    assert ET.parse(target).getroot().find("testsuite").get("tests") == "4"
    assert sorted(os.listdir(tmp_path)) == ["report.xml"]


def test_xml_safe_keeps_allowed_characters():
    allowed = "\t\n\r é \ud7ff \ue000 \ufffd \U0010ffff"
    assert junit.xml_safe(allowed) == allowed
    assert junit.xml_safe("\x0b\x0c\ufffe\uffff") == "\\x0b\\x0c\\ufffe\\uffff"
