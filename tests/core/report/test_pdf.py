"""PDF report: the numbers and addresses are in the text, markup is escaped, writes are atomic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.report.build import ExplanationItem, build_report
from ids_desktop.core.report.pdf_writer import write_pdf
from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError, ReportError
from tests.core.report.scored import scored_analysis

pypdf = pytest.importorskip("pypdf")


def analysis(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    flagged = rng.random(n) < 0.3
    t0 = 1_700_000_000.0
    return pd.DataFrame(
        {
            "flow_id": np.arange(n, dtype="int64"),
            "src_ip": pd.array([f"10.1.{i % 7}.{i % 250}" for i in range(n)], dtype="string"),
            "src_port": pd.array(rng.integers(1024, 65535, n), dtype="Int64"),
            "dst_ip": pd.array(["10.9.9.9"] * (n - 1) + ["2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"],
                               dtype="string"),
            "dst_port": pd.array(rng.choice([22, 80, 443], n), dtype="Int64"),
            "protocol": pd.array([6] * n, dtype="Int64"),
            "first_seen": t0 + np.sort(rng.random(n)) * 3600,
            "last_seen": t0 + 3600 + rng.random(n),
            "application": pd.array(["<b>HTTP</b><font size=90>"] * n, dtype="string"),
            "pred_class": pd.array(np.where(flagged, "scan", "benign"), dtype="string"),
            "pred_score": np.where(flagged, 0.9, 0.1) + rng.random(n) * 0.05,
            "anomaly_score": rng.random(n),
            "flagged": flagged,
        }
    )


def make_report(tmp_path: Path, n: int = 300):  # type: ignore[no-untyped-def]
    src = tmp_path / "capture.pcap"
    src.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(100))
    flows = analysis(n)
    items = [
        ExplanationItem(
            flow_id=int(fid),
            sentence="Flagged as scan (p=0.95) mainly because <Dst port @ t-0> & friends",
            contributions=[("Dst port @ t-0", 0.4), ("Flow bytes @ t-1", -0.2)],
        )
        for fid in flows.loc[flows["flagged"], "flow_id"].head(3)
    ]
    evaluation = {
        "binary": {"precision": 0.9, "recall": 0.8, "f1": 0.85, "accuracy": 0.9, "far": 0.01,
                   "roc_auc": 0.95},
        "per_class": {"scan": {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 90}},
        "confusion": {"labels": ["benign", "scan"], "matrix": [[200, 10], [18, 72]]},
    }
    analysed = scored_analysis(flows, src, name="pcap", warnings=["capture is truncated"])
    return flows, build_report(analysed, explanations=items, evaluation=evaluation)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)


@pytest.mark.parametrize("page_size", ["A4", "letter"])
def test_pdf_contains_summary_numbers_and_addresses(tmp_path: Path, page_size: str) -> None:
    flows, report = make_report(tmp_path)
    out = write_pdf(report, tmp_path / f"r-{page_size}.pdf", page_size=page_size)
    text = pdf_text(out)
    assert f"{report.flows:,}" in text and f"{report.flagged:,}" in text
    flagged_src = flows.loc[flows["flagged"], "src_ip"].iloc[0]
    assert flagged_src in text
    assert "<b>HTTP</b>" in text  # shown literally, not interpreted as markup
    assert "page 2" in text
    assert "Flagged as scan" in text


def test_bad_page_size_is_a_report_error(tmp_path: Path) -> None:
    _, report = make_report(tmp_path)
    with pytest.raises(ReportError):
        write_pdf(report, tmp_path / "x.pdf", page_size="A0")


def test_cancel_leaves_no_file(tmp_path: Path) -> None:
    _, report = make_report(tmp_path)
    token = CancelToken()
    token.cancel()
    (tmp_path / "out").mkdir()
    with pytest.raises(CancelledError):
        write_pdf(report, tmp_path / "out" / "x.pdf", cancel=token)
    assert not any((tmp_path / "out").iterdir())


def test_pdftotext_sees_the_numbers_and_addresses(tmp_path: Path) -> None:
    """The same check through poppler's pdftotext, the tool an analyst's pipeline would use."""
    import shutil
    import subprocess

    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    flows, report = make_report(tmp_path)
    out = write_pdf(report, tmp_path / "r.pdf")
    text = subprocess.run([exe, str(out), "-"], capture_output=True, text=True, timeout=60,
                          check=True).stdout
    assert f"{report.flagged:,}" in text and f"{report.flows:,}" in text
    for ip in flows.loc[flows["flagged"], "src_ip"].head(5):
        assert ip in text
