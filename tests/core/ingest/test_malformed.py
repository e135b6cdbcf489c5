"""Broken captures either ingest with warnings or fail with a clear InputError, never hang."""

from __future__ import annotations

import random
import struct
import threading
from pathlib import Path

import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.errors import InputError
from ids_desktop.synth.mixed_capture import write_mixed_capture

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
MALFORMED = SHARED / "pcaps" / "malformed"
LIMIT_S = 30.0

#: Flows nfstream 6.6.0 gives for each file (../shared/data/PROVENANCE.md, section 5.3).
EXPECTED_FLOWS = {
    "badpackets.pcap": 93,
    "fuzz-2021-06-07-c6c72a0a56.pcap": 1,
    "h323-overflow.pcap": 1,
    "ip_fragmented_garbage.pcap": 1,
    "malformed_dns.pcap": 1,
    "malformed_icmp.pcap": 1,
    "raw.pcap": 1,
    "reasm_crash_anon.pcapng": 1,
    "tls-esni-fuzzed.pcap": 3,
    "zeek_trunc-hdr.pcap": 0,
    "zeek_ip4-trunc.pcap": 0,
    "zeek_ip6-trunc.pcap": 0,
    "zeek_ipv4-truncated-broken-header.pcap": 0,
    "zeek_icmp-header-trunc.pcap": 1,
}


def _ingest_within_limit(path: Path) -> IngestResult | InputError:
    """Run ingest in a thread; fail the test when it takes longer than the limit."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = ingest(path)
        except BaseException as exc:  # noqa: BLE001 - judged below
            outcome["value"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(LIMIT_S)
    assert not worker.is_alive(), f"{path.name}: ingest did not finish within {LIMIT_S:.0f} s"
    value = outcome["value"]
    if isinstance(value, InputError):
        assert str(value).strip()
        return value
    assert isinstance(value, IngestResult), f"{path.name}: unexpected {value!r}"
    schema.validate_flows(value.frame)
    return value


def _malformed_files() -> list[Path]:
    return sorted(MALFORMED.iterdir()) if MALFORMED.is_dir() else []


@pytest.mark.shared
@pytest.mark.parametrize("path", _malformed_files(), ids=lambda p: p.name)
def test_shared_malformed_capture(path: Path) -> None:
    outcome = _ingest_within_limit(path)
    expected = EXPECTED_FLOWS.get(path.name)
    if isinstance(outcome, InputError):
        assert expected in (None, 0), f"{path.name}: {outcome}"
        return
    if expected is not None:
        assert len(outcome.frame) == expected
    if len(outcome.frame) == 0:
        assert any("no IP flows" in w or "no packet" in w for w in outcome.warnings)


@pytest.mark.shared
def test_malformed_folder_is_present_when_shared_is() -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    assert _malformed_files(), "the malformed captures folder is empty"


def test_snapshot_truncated_and_absurd_snaplen_warn(tmp_path) -> None:
    if not (MALFORMED / "fuzz-2021-06-07-c6c72a0a56.pcap").is_file():
        pytest.skip("../shared/data is absent")
    result = ingest(MALFORMED / "fuzz-2021-06-07-c6c72a0a56.pcap")
    assert any("nonsensical snapshot length (268,435,708" in w for w in result.warnings)
    assert any("captured shorter than sent" in w for w in result.warnings)


_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
_SHB = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
_IDB = struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20)


def _noise(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.mark.parametrize(
    ("name", "content", "outcome"),
    [
        ("header-cut.pcap", _PCAP_HEADER[:20], "error"),
        ("bad-version.pcap", _PCAP_HEADER[:4] + b"\x07\0\x04\0" + _PCAP_HEADER[8:], "error"),
        ("garbage-after-header.pcap", _PCAP_HEADER + _noise(50_000), "damaged"),
        ("garbage-after-idb.pcapng", _SHB + _IDB + _noise(50_000), "damaged"),
        ("garbage-after-shb.pcapng", _SHB + _noise(50_000), "any"),
        ("bad-byte-order.pcapng", b"\x0a\x0d\x0d\x0a" + _noise(200), "error"),
        ("shb-only.pcapng", _SHB, "any"),
    ],
)
def test_valid_magic_with_garbage(tmp_path, name: str, content: bytes, outcome: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    got = _ingest_within_limit(path)
    if outcome == "error":
        assert isinstance(got, InputError)
    elif outcome == "damaged":
        assert isinstance(got, IngestResult)
        assert any("damaged at byte" in w for w in got.warnings)
        assert len(got.frame) == 0


def test_garbage_in_the_middle_keeps_earlier_flows(tmp_path) -> None:
    source = tmp_path / "mixed.pcap"
    write_mixed_capture(source, 3, seed=2)
    data = source.read_bytes()
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(data[: len(data) // 2] + _noise(100_000) + data[len(data) // 2 :])
    got = _ingest_within_limit(broken)
    assert isinstance(got, IngestResult)
    assert len(got.frame) > 0
    assert any("damaged at byte" in w for w in got.warnings)
