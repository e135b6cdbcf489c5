"""The fuzz corpus of broken and hostile inputs (issue 10), for the fuzz test and bench/fuzz.py.

Seeded and deterministic: the same seed (and the same ``../shared/data``) gives the same
files. Sources:

- generated captures (:mod:`.known_capture` as pcap and pcapng, a small :mod:`.mixed_capture`;
  :mod:`.demo_capture`, with TLS SNI and HTTP hosts);
- generated flow tables: synthetic rows in the CIC-IDS2017, UNSW-NB15, ToN-IoT and NSL-KDD
  layouts (:func:`.tables.synthetic_table`), and the app's own CSV export of a generated
  capture;
- when ``../shared/data`` exists: a few small real captures, the first rows of each real
  dataset table, and every file of ``pcaps/malformed`` (copied into the corpus unchanged;
  the corpus folder must be outside the repository, the data is never copied into it).

Each source goes through :func:`.capture_mutations.capture_mutations` or
:func:`.table_mutations.table_mutations`; :func:`generic_binary` adds inputs with no source.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ids_desktop.core.ingest import ingest, write_flows
from ids_desktop.core.ingest.tables import TABLE_FORMATS
from ids_desktop.paths import app_root
from ids_desktop.synth.capture_mutations import capture_mutations
from ids_desktop.synth.demo_capture import write_demo
from ids_desktop.synth.known_capture import write_known_capture
from ids_desktop.synth.mixed_capture import write_mixed_capture
from ids_desktop.synth.packets import LINKTYPE_RAW
from ids_desktop.synth.table_mutations import table_mutations
from ids_desktop.synth.tables import synthetic_table

#: The real datasets beside the source tree, used when present.
SHARED = app_root().parent / "shared" / "data"

#: Small real captures mutated when ../shared/data exists (a mix of link layers and containers).
SHARED_CAPTURES = (
    "pcaps/attack/synscan.pcap",
    "pcaps/attack/dns_axfr.pcapng",
    "pcaps/benign/http_espn.pcapng",
    "pcaps/benign/http_ipv6.pcap",
)
#: Real tables: (path, rows kept from the top).
SHARED_TABLES = (
    ("cic_ids2017/cic_ids2017_multiclass.csv.gz", 300),
    ("unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz", 300),
    ("nsl_kdd/KDDTrain+_20Percent.txt", 300),
    ("nsl_kdd/KDDTrain+_20Percent.arff", 0),  # 0: whole header + 300 data lines
)


@dataclass
class Item:
    """One corpus file, as listed in ``manifest.json``."""

    name: str
    kind: str  # "capture" or "table"
    source: str
    mutation: str


def generic_binary(rng: random.Random) -> list[tuple[str, str, bytes]]:
    """Inputs with no source: (name, extension, bytes)."""
    return [
        ("empty", "pcap", b""),
        ("empty", "csv", b""),
        ("one-byte", "pcap", b"\xd4"),
        ("magic-only", "pcap", b"\xd4\xc3\xb2\xa1"),
        ("pcapng-magic-only", "pcapng", b"\x0a\x0d\x0d\x0a"),
        ("random-bytes", "pcap", rng.randbytes(4096)),
        ("random-bytes", "pcapng", rng.randbytes(70_000)),
        ("random-bytes", "csv", rng.randbytes(4096)),
        ("zeros", "pcap", b"\0" * 10_000),
        ("pdf-named-pcap", "pcap", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        ("zip-named-csv", "csv", b"PK\x03\x04" + rng.randbytes(400)),
        ("gzip-of-random", "csv.gz", gzip.compress(rng.randbytes(3000), mtime=0)),
        ("gzip-header-only", "csv.gz", gzip.compress(b"", mtime=0)[:10]),
        ("parquet-magic-junk", "parquet", b"PAR1" + rng.randbytes(500) + b"PAR1"),
        ("parquet-magic-only", "parquet", b"PAR1"),
        ("only-newlines", "csv", b"\n\n\n\r\n"),
        ("only-bom", "csv", b"\xef\xbb\xbf"),
        ("utf16-bom-only", "csv", b"\xff\xfe"),
    ]


def _generated_captures(tmp: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for fmt in ("pcap", "pcapng"):
        p = tmp / f"known.{fmt}"
        write_known_capture(p, fmt)
        out[f"gen-known-{fmt}"] = p
    p = tmp / "mixed.pcap"
    write_mixed_capture(p, 0.25, seed=3)
    out["gen-mixed-pcap"] = p
    p = tmp / "raw.pcap"
    write_known_capture(p, "pcap", linktype=LINKTYPE_RAW)
    out["gen-known-rawip"] = p
    p = tmp / "demo.pcap"
    write_demo(p, seed=7, minutes=1)
    out["gen-demo"] = p
    return out


def _export_csv(capture: Path, tmp: Path) -> str:
    """The app's own CSV export of a generated capture, as text."""
    out = tmp / "export.csv"
    write_flows(ingest(capture), out)
    return out.read_text(encoding="utf-8")


def _shared_table_text(path: Path, rows: int) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(
        path, "rt", encoding="utf-8", errors="replace", newline=""
    ) as fh:
        if rows:
            return "".join(line for _, line in zip(range(rows + 1), fh, strict=False))
        lines: list[str] = []
        data_lines = 0
        in_data = False
        for line in fh:
            lines.append(line)
            if in_data and line.strip():
                data_lines += 1
                if data_lines >= 300:
                    break
            if line.strip().lower() == "@data":
                in_data = True
        return "".join(lines)


def build_corpus(
    out: Path, *, seed: int = 0, shared: bool = True, only: set[str] | None = None
) -> list[Item]:
    """Write the whole corpus into ``out`` (created; existing files are replaced).

    Parameters
    ----------
    out
        The corpus folder; keep it outside the repository (it may hold copies of
        ``../shared/data``). ``manifest.json`` (name, kind, source, mutation) goes beside the
        files.
    seed
        Random seed of every mutation.
    shared
        Also mutate (and copy the malformed captures of) :data:`SHARED` when it exists.
    only
        Write just the files with these names (the manifest lists only them too).

    Returns
    -------
    list of Item
        The files written, in manifest order.
    """
    out.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []

    def put(name: str, kind: str, source: str, mutation: str, data: bytes) -> None:
        if only is not None and name not in only:
            return
        (out / name).write_bytes(data)
        items.append(Item(name, kind, source, mutation))

    use_shared = shared and SHARED.is_dir()
    with tempfile.TemporaryDirectory(prefix="ids-fuzz-src-") as tmp_name:
        tmp = Path(tmp_name)
        captures = _generated_captures(tmp)
        if use_shared:
            for rel in SHARED_CAPTURES:
                p = SHARED / rel
                if p.is_file():
                    captures["real-" + p.stem] = p
        for src, path in sorted(captures.items()):
            rng = random.Random(f"{seed}:{src}")
            ext = "pcapng" if path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"
            for mutation, data in capture_mutations(path.read_bytes(), rng):
                put(f"{src}--{mutation}.{ext}", "capture", src, mutation, data)

        tables: dict[str, tuple[str, bool]] = {}
        for fmt in ("cic-ids2017", "unsw-nb15", "ton-iot", "nsl-kdd"):
            rng = random.Random(f"{seed}:table:{fmt}")
            tables[f"gen-{fmt}"] = (synthetic_table(fmt, 60, rng), TABLE_FORMATS[fmt].header)
        tables["gen-export"] = (_export_csv(captures["gen-demo"], tmp), True)
        if use_shared:
            for rel, rows in SHARED_TABLES:
                p = SHARED / rel
                if p.is_file():
                    header = not rel.endswith(".txt")
                    tables["real-" + p.name.split(".")[0]] = (_shared_table_text(p, rows), header)
        for src, (text, header) in sorted(tables.items()):
            rng = random.Random(f"{seed}:{src}")
            if src.endswith("Percent") and "@" in text[:2000]:  # ARFF: only text-level mutations
                skipped = ("hostile-cell", "formula", "no-header")
                muts = [m for m in table_mutations(text, rng, has_header=False)
                        if not m[0].startswith(skipped)]  # fmt: skip
                ext_base = "arff"
            else:
                muts = table_mutations(text, rng, has_header=header)
                ext_base = "csv" if header else "txt"
            for mutation, ext, data in muts:
                ext = ext.replace("csv", ext_base)
                put(f"{src}--{mutation}.{ext}", "table", src, mutation, data)

    rng = random.Random(f"{seed}:generic")
    for name, ext, data in generic_binary(rng):
        put(
            f"generic--{name}.{ext}", "capture" if "pcap" in ext else "table", "generic", name, data
        )

    if use_shared:
        malformed = SHARED / "pcaps" / "malformed"
        for p in sorted(malformed.iterdir()) if malformed.is_dir() else []:
            name = f"malformed--{p.name}"
            if only is not None and name not in only:
                continue
            shutil.copyfile(p, out / name)
            items.append(Item(name, "capture", f"shared:{p.name}", "as published"))

    (out / "manifest.json").write_text(json.dumps([asdict(i) for i in items], indent=1))
    return items
