"""Attacker-controlled strings (hostnames, SNI, user agents, application names) in every report.

Captures carry bytes the attacker chose: the TLS SNI and HTTP Host (``requested_server_name``),
the user agent and nDPI's names derived from payloads. They must come out of the PDF as the
literal text (reportlab's Paragraph mini-markup must not interpret them), out of the CSV as
text a spreadsheet will not run as a formula, and out of the JSON Lines as valid JSON. Damaged
times (out of any calendar's range) must not break a writer either.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.report.build import ExplanationItem, build_report
from ids_desktop.core.report.csv_writer import FORMULA_TRIGGERS, neutralise, write_csv
from ids_desktop.core.report.eve import write_jsonl
from ids_desktop.core.report.pdf_writer import write_pdf
from tests.core.report.scored import scored_analysis

LONG = "A" * 100_000
HOSTILE = [
    "<b>x</b>",
    "=cmd|' /C calc'!A0",
    "&amp;",
    "<font size=90 color=red>big</font><img src='/etc/passwd'/>",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\x00=1+1",
    "a\x00b\x01c\x07d\x1be\x7f",
    "line\nbreak\r\nhere",
    "\u202etxt.exe",
    "<para>x</para>]]>&#0;&#x1F;",
    LONG,
]


def hostile_frame() -> pd.DataFrame:
    n = len(HOSTILE)
    text = pd.array(HOSTILE, dtype="string")
    times = np.full(n, 1_700_000_000.0)
    times[0], times[1] = 1.8e16, -5.0  # damaged times must not break a writer
    return pd.DataFrame(
        {
            "flow_id": np.arange(100, 100 + n, dtype="int64"),
            "src_ip": text,
            "src_port": pd.array([40000] * n, dtype="Int64"),
            "dst_ip": text,
            "dst_port": pd.array([443] * n, dtype="Int64"),
            "protocol": pd.array([6] * n, dtype="Int64"),
            "first_seen": times,
            "last_seen": times,
            "application": text,
            "requested_server_name": text,
            "user_agent": text,
            "label_original": text,
            "pred_class": pd.array(["scan"] * n, dtype="string"),
            "pred_score": np.linspace(0.9, 0.99, n),
            "anomaly_score": np.zeros(n),
            "flagged": np.ones(n, dtype=bool),
        }
    )


def _starts_like_formula(cell: str) -> bool:
    """What a spreadsheet may run: a trigger first, possibly after blanks or control chars."""
    stripped = cell.lstrip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x1b")
    number = re.fullmatch(r"[+-]?[\d.]+([eE][+-]?\d+)?", stripped)
    return stripped.startswith(FORMULA_TRIGGERS) and not number


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_leaves_no_formula(value: str) -> None:
    out = neutralise(value)
    assert isinstance(out, str)
    assert not _starts_like_formula(out), repr(out[:40])
    assert out.endswith(value[-20:])  # the text itself is kept, only prefixed


def test_csv_cells_are_inert_and_complete(tmp_path: Path) -> None:
    flows = hostile_frame()
    out = write_csv(flows, tmp_path / "flagged.csv", explanations={100: "=evil()", 101: "<b>x</b>"})
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(flows)
    for row in rows:
        for column, cell in row.items():
            assert not _starts_like_formula(cell or ""), (column, (cell or "")[:40])
    # nothing lost: each hostile value comes back whole (after the apostrophe, if any)
    names = [r["server_name"].removeprefix("'") for r in rows]
    assert names == HOSTILE
    assert rows[0]["first_seen"] == ""  # a damaged time: empty, not an error


def test_jsonl_is_valid_json_with_the_literal_strings(tmp_path: Path) -> None:
    flows = hostile_frame()
    out = write_jsonl(flows, tmp_path / "alerts.jsonl", model="m")
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # one event per line, none split by a newline inside a value
    events = [json.loads(line) for line in lines[:-1]]
    assert [e["src_ip"] for e in events] == HOSTILE
    assert events[0]["timestamp"] is None  # a damaged time: null, not an error


def _pdf_text(path: Path) -> str:
    pypdf = pytest.importorskip("pypdf")
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


def test_pdf_shows_hostile_strings_literally(tmp_path: Path) -> None:
    flows = hostile_frame()
    src = tmp_path / "<b>capture<i>&amp;.pcap"
    src.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(60))
    report = build_report(
        scored_analysis(flows, src, name="<i>m</i>", metadata={"model_sha256": "&lt;1&gt;"}),
        top_n=len(flows),
        explanations=[ExplanationItem(100, "flagged because <b>server</b> = &amp; " + LONG[:3000],
                                      [("<b>label</b> & co", 0.5), ("x\x00y", -0.2)])],
        warnings=["<b>warning</b> &amp; \x00 " + LONG],
    )
    out = write_pdf(report, tmp_path / "report.pdf")
    text = _pdf_text(out)
    compact = "".join(text.split())
    # markup came out as text, entities were not decoded
    assert "<b>x</b>" in compact
    assert "&amp;" in compact
    assert "<b>capture<i>&amp;.pcap" in compact
    assert "<b>server</b>" in compact
    assert "<font" in compact


def test_pdf_top_tables_with_hostile_names(tmp_path: Path) -> None:
    """The summary tables (top hosts, applications) take the same strings as table cells."""
    flows = hostile_frame()
    src = tmp_path / "c.pcap"
    src.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(60))
    report = build_report(scored_analysis(flows, src), top_n=3)
    assert any(k == "<b>x</b>" for k, _ in report.top_applications)
    write_pdf(report, tmp_path / "r.pdf")
    assert "<b>x</b>" in "".join(_pdf_text(tmp_path / "r.pdf").split())
