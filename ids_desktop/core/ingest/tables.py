"""Read dataset flow tables (CIC-IDS2017, UNSW-NB15, ToN-IoT, NSL-KDD, own export) as flows."""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import os
import re
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np
import pandas as pd

from ids_desktop.core import options as DEFAULTS_  # noqa: N812 (until the ingest split)
from ids_desktop.core import schema
from ids_desktop.core.ingest import _arff
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.tasks import Progress, check_cancel
from ids_desktop.errors import InputError, SchemaError

__all__ = ["EXPORT_FORMAT", "TABLE_FORMATS", "TableFormat", "read_table", "write_export"]

#: The app's own export format name.
EXPORT_FORMAT = "ids-desktop"
#: Extra columns the export carries; stripped again on reading.
SOURCE_FORMAT_COLUMN = "source_format"
SOURCE_TEMPORAL_COLUMN = "source_temporal"
#: JSON of the feature columns' dtypes, in the first data row only (so the CSV stays small).
SOURCE_DTYPES_COLUMN = "source_dtypes"

#: Longest header line accepted (characters); a longer first line is not a table header.
MAX_HEADER_CHARS = 1 << 20
#: Longest first data row checked for its field count (see ``_check_first_row``).
MAX_ROW_CHARS = 64 << 20
#: Rows read and converted per step at most, whatever ``csv_chunk_rows`` says. The reader's
#: and the converters' pandas calls each hold the GIL in proportion to a step's rows (ToN-IoT
#: text columns: about 70 ms per 100,000 rows on an idle machine), and a GUI thread waits for
#: every one of them. Smaller steps also read faster (CIC-IDS2017, 1.2 M rows: 8.5 s, not 12.4).
MAX_CHUNK_ROWS = 25_000

# ---------------------------------------------------------------------------------------------
# Column vocabularies
# ---------------------------------------------------------------------------------------------

#: The 78 CICFlowMeter features of CIC-IDS2017's MachineLearningCVE CSVs, whitespace stripped.
CIC_FEATURES: tuple[str, ...] = tuple(
    """Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,
    Total Length of Fwd Packets, Total Length of Bwd Packets, Fwd Packet Length Max,
    Fwd Packet Length Min, Fwd Packet Length Mean, Fwd Packet Length Std, Bwd Packet Length Max,
    Bwd Packet Length Min, Bwd Packet Length Mean, Bwd Packet Length Std, Flow Bytes/s,
    Flow Packets/s, Flow IAT Mean, Flow IAT Std, Flow IAT Max, Flow IAT Min, Fwd IAT Total,
    Fwd IAT Mean, Fwd IAT Std, Fwd IAT Max, Fwd IAT Min, Bwd IAT Total, Bwd IAT Mean,
    Bwd IAT Std, Bwd IAT Max, Bwd IAT Min, Fwd PSH Flags, Bwd PSH Flags, Fwd URG Flags,
    Bwd URG Flags, Fwd Header Length, Bwd Header Length, Fwd Packets/s, Bwd Packets/s,
    Min Packet Length, Max Packet Length, Packet Length Mean, Packet Length Std,
    Packet Length Variance, FIN Flag Count, SYN Flag Count, RST Flag Count, PSH Flag Count,
    ACK Flag Count, URG Flag Count, CWE Flag Count, ECE Flag Count, Down/Up Ratio,
    Average Packet Size, Avg Fwd Segment Size, Avg Bwd Segment Size, Fwd Header Length.1,
    Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk,
    Bwd Avg Packets/Bulk, Bwd Avg Bulk Rate, Subflow Fwd Packets, Subflow Fwd Bytes,
    Subflow Bwd Packets, Subflow Bwd Bytes, Init_Win_bytes_forward, Init_Win_bytes_backward,
    act_data_pkt_fwd, min_seg_size_forward, Active Mean, Active Std, Active Max, Active Min,
    Idle Mean, Idle Std, Idle Max, Idle Min""".replace("\n", " ").split(", ")
)
CIC_FEATURES = tuple(" ".join(name.split()) for name in CIC_FEATURES)

#: Features the widely used cleaned CIC-IDS2017 export drops (it keeps the other 52).
CIC_CLEANED_DROPPED: frozenset[str] = frozenset(
    (
        "Total Backward Packets",
        "Total Length of Bwd Packets",
        "Fwd PSH Flags",
        "Bwd PSH Flags",
        "Fwd URG Flags",
        "Bwd URG Flags",
        "SYN Flag Count",
        "RST Flag Count",
        "URG Flag Count",
        "CWE Flag Count",
        "ECE Flag Count",
        "Down/Up Ratio",
        "Avg Fwd Segment Size",
        "Avg Bwd Segment Size",
        "Fwd Header Length.1",
        "Fwd Avg Bytes/Bulk",
        "Fwd Avg Packets/Bulk",
        "Fwd Avg Bulk Rate",
        "Bwd Avg Bytes/Bulk",
        "Bwd Avg Packets/Bulk",
        "Bwd Avg Bulk Rate",
        "Subflow Fwd Packets",
        "Subflow Bwd Packets",
        "Subflow Bwd Bytes",
        "Active Std",
        "Idle Std",
    )
)
CIC_CLEANED_FEATURES: tuple[str, ...] = tuple(
    c for c in CIC_FEATURES if c not in CIC_CLEANED_DROPPED
)
CIC_TRAFFIC_IDENTITY: tuple[str, ...] = (
    "Flow ID",
    "Source IP",
    "Source Port",
    "Destination IP",
    "Protocol",
    "Timestamp",
)

#: UNSW-NB15's partitioned training/testing files: 45 columns.
UNSW_COLUMNS: tuple[str, ...] = tuple(
    "id dur proto service state spkts dpkts sbytes dbytes rate sttl dttl sload dload sloss "
    "dloss sinpkt dinpkt sjit djit swin stcpb dtcpb dwin tcprtt synack ackdat smean dmean "
    "trans_depth response_body_len ct_srv_src ct_state_ttl ct_dst_ltm ct_src_dport_ltm "
    "ct_dst_sport_ltm ct_dst_src_ltm is_ftp_login ct_ftp_cmd ct_flw_http_mthd ct_src_ltm "
    "ct_srv_dst is_sm_ips_ports attack_cat label".split()
)
UNSW_FEATURES: tuple[str, ...] = tuple(
    c for c in UNSW_COLUMNS if c not in ("id", "attack_cat", "label")
)

#: The raw UNSW-NB15_1..4.csv files: 49 columns and no header row.
UNSW_RAW_COLUMNS: tuple[str, ...] = tuple(
    "srcip sport dstip dsport proto state dur sbytes dbytes sttl dttl sloss dloss service Sload "
    "Dload Spkts Dpkts swin dwin stcpb dtcpb smeansz dmeansz trans_depth res_bdy_len Sjit Djit "
    "Stime Ltime Sintpkt Dintpkt tcprtt synack ackdat is_sm_ips_ports ct_state_ttl "
    "ct_flw_http_mthd is_ftp_login ct_ftp_cmd ct_srv_src ct_srv_dst ct_dst_ltm ct_src_ltm "
    "ct_src_dport_ltm ct_dst_sport_ltm ct_dst_src_ltm attack_cat Label".split()
)
#: Raw name -> partitioned name, where the two files carry the same feature.
UNSW_RAW_RENAMES: dict[str, str] = {
    "Sload": "sload",
    "Dload": "dload",
    "Spkts": "spkts",
    "Dpkts": "dpkts",
    "smeansz": "smean",
    "dmeansz": "dmean",
    "res_bdy_len": "response_body_len",
    "Sjit": "sjit",
    "Djit": "djit",
    "Sintpkt": "sinpkt",
    "Dintpkt": "dinpkt",
}
UNSW_RAW_IDENTITY = ("srcip", "sport", "dstip", "dsport", "Stime", "Ltime")
#: Raw features under their partitioned names, in the partitioned order (``rate`` is absent).
UNSW_RAW_FEATURES: tuple[str, ...] = tuple(
    c
    for c in UNSW_FEATURES
    if c
    in {
        UNSW_RAW_RENAMES.get(r, r)
        for r in UNSW_RAW_COLUMNS
        if r not in UNSW_RAW_IDENTITY and r not in ("attack_cat", "Label")
    }
)

#: ToN-IoT ``train_test_network``: 44 columns (some releases put ``ts`` first).
TON_COLUMNS: tuple[str, ...] = tuple(
    "src_ip src_port dst_ip dst_port proto service duration src_bytes dst_bytes conn_state "
    "missed_bytes src_pkts src_ip_bytes dst_pkts dst_ip_bytes dns_query dns_qclass dns_qtype "
    "dns_rcode dns_AA dns_RD dns_RA dns_rejected ssl_version ssl_cipher ssl_resumed "
    "ssl_established ssl_subject ssl_issuer http_trans_depth http_method http_uri http_version "
    "http_request_body_len http_response_body_len http_status_code http_user_agent "
    "http_orig_mime_types http_resp_mime_types weird_name weird_addl weird_notice "
    "label type".split()
)
TON_IDENTITY = ("ts", "src_ip", "src_port", "dst_ip", "dst_port")
TON_FEATURES: tuple[str, ...] = tuple(
    c for c in TON_COLUMNS if c not in TON_IDENTITY and c not in ("label", "type")
)
TON_CATEGORICAL: tuple[str, ...] = (
    "proto service conn_state dns_query dns_AA dns_RD dns_RA dns_rejected ssl_version ssl_cipher "
    "ssl_resumed ssl_established ssl_subject ssl_issuer http_method http_uri http_version "
    "http_user_agent http_orig_mime_types http_resp_mime_types weird_name weird_addl weird_notice"
).split()

#: The 41 KDD'99 feature names NSL-KDD uses.
KDD_FEATURES: tuple[str, ...] = tuple(
    "duration protocol_type service flag src_bytes dst_bytes land wrong_fragment urgent hot "
    "num_failed_logins logged_in num_compromised root_shell su_attempted num_root "
    "num_file_creations num_shells num_access_files num_outbound_cmds is_host_login "
    "is_guest_login count srv_count serror_rate srv_serror_rate rerror_rate srv_rerror_rate "
    "same_srv_rate diff_srv_rate srv_diff_host_rate dst_host_count dst_host_srv_count "
    "dst_host_same_srv_rate dst_host_diff_srv_rate dst_host_same_src_port_rate "
    "dst_host_srv_diff_host_rate dst_host_serror_rate dst_host_srv_serror_rate "
    "dst_host_rerror_rate dst_host_srv_rerror_rate".split()
)
KDD_CATEGORICAL = ("protocol_type", "service", "flag")
#: Names a header row (when an NSL-KDD file has one) may give the label and difficulty columns.
KDD_LABEL_ALIASES = ("label", "class", "attack", "attack_type", "labels", "outcome")
KDD_DIFFICULTY_ALIASES = ("difficulty", "difficulty_level", "level", "score")

# ---------------------------------------------------------------------------------------------
# Label vocabularies (keys are lower case)
# ---------------------------------------------------------------------------------------------

CIC_LABELS: dict[str, str] = {
    "benign": "benign",
    "dos hulk": "dos",
    "dos goldeneye": "dos",
    "dos slowloris": "dos",
    "dos slowhttptest": "dos",
    "ddos": "ddos",
    "portscan": "scan",
    "ftp-patator": "brute_force",
    "ssh-patator": "brute_force",
    "web attack": "web_attack",
    "bot": "botnet",
    "infiltration": "infiltration",
    "heartbleed": "exploit",
}
CIC_CLEANED_LABELS: dict[str, str] = {
    "normal traffic": "benign",
    "dos": "dos",
    "ddos": "ddos",
    "port scanning": "scan",
    "brute force": "brute_force",
    "web attacks": "web_attack",
    "web attack": "web_attack",
    "bots": "botnet",
    "bot": "botnet",
    "infiltration": "infiltration",
    "heartbleed": "exploit",
}
UNSW_LABELS: dict[str, str] = {
    "normal": "benign",
    "generic": "generic",
    "exploits": "exploit",
    "fuzzers": "fuzzing",
    "dos": "dos",
    "reconnaissance": "scan",
    "analysis": "analysis",
    "backdoor": "backdoor",
    "backdoors": "backdoor",
    "shellcode": "shellcode",
    "worms": "worm",
}
TON_LABELS: dict[str, str] = {
    "normal": "benign",
    "scanning": "scan",
    "password": "brute_force",
    "xss": "web_attack",
    "injection": "web_attack",
    "ddos": "ddos",
    "dos": "dos",
    "backdoor": "backdoor",
    "ransomware": "ransomware",
    "mitm": "mitm",
}
NSL_LABELS: dict[str, str] = {"normal": "benign", "anomaly": "attack", "attack": "attack"}
for _names, _family in (
    (
        "neptune smurf pod teardrop land back apache2 processtable mailbomb udpstorm",
        "dos",
    ),
    ("ipsweep satan portsweep nmap mscan saint", "scan"),
    ("guess_passwd", "brute_force"),
    (
        (
            "warezclient warezmaster imap phf multihop spy ftp_write named sendmail "
            "snmpgetattack snmpguess xlock xsnoop worm httptunnel"
        ),
        "r2l",
    ),
    ("buffer_overflow loadmodule rootkit perl sqlattack xterm ps", "u2r"),
):
    NSL_LABELS.update(dict.fromkeys(_names.split(), _family))


# ---------------------------------------------------------------------------------------------
# Format declarations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableFormat:
    """One supported table format.

    Attributes
    ----------
    name
        The format name users pass as ``--format``.
    feature_format
        The feature family the rows carry; it picks the model bundle.
    description
        One line for ``ids-desktop-cli formats``.
    columns
        Every column the format's files carry, in file order, whitespace stripped.
    required
        Columns that must be present for the file to be read as this format (features and
        identity sources; label columns are optional so unlabelled files are accepted).
    features
        Output feature columns, in order, under their canonical names.
    categorical
        Features kept as text; the rest are numeric (float64).
    label_columns
        Source columns holding ground truth.
    header
        False for formats whose files have no header row (columns are positional).
    temporal
        True when rows carry absolute times and source hosts.
    renames
        Source column -> feature name, where the format's name differs from its family's.
    missing_tokens
        Cell values that mean "missing" in this format (beyond empty cells).
    """

    name: str
    feature_format: str
    description: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    features: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    label_columns: tuple[str, ...] = ()
    header: bool = True
    temporal: bool = False
    renames: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    missing_tokens: tuple[str, ...] = ()

    @property
    def expected_columns(self) -> tuple[str, ...]:
        """Alias of :attr:`columns`, the columns a file of this format is expected to have."""
        return self.columns


TABLE_FORMATS: dict[str, TableFormat] = {
    spec.name: spec
    for spec in (
        TableFormat(
            name="cic-ids2017",
            feature_format="cic-ids2017",
            description="CIC-IDS2017 MachineLearningCVE CSV (CICFlowMeter, 78 features + Label)",
            columns=(*CIC_FEATURES, "Label"),
            required=tuple(c for c in CIC_FEATURES if c != "Fwd Header Length.1"),
            features=CIC_FEATURES,
            label_columns=("Label",),
        ),
        TableFormat(
            name="cic-ids2017-traffic",
            feature_format="cic-ids2017",
            description="CIC-IDS2017 TrafficLabelling CSV (flow id, addresses, timestamp, "
            "78 features + Label)",
            columns=(
                *CIC_TRAFFIC_IDENTITY[:4],
                "Destination Port",
                *CIC_TRAFFIC_IDENTITY[4:],
                *CIC_FEATURES[1:],
                "Label",
            ),
            required=(
                *CIC_TRAFFIC_IDENTITY[1:],
                *(c for c in CIC_FEATURES if c != "Fwd Header Length.1"),
            ),
            features=CIC_FEATURES,
            label_columns=("Label",),
            temporal=True,
        ),
        TableFormat(
            name="cic-ids2017-cleaned",
            feature_format="cic-ids2017",
            description="cleaned CIC-IDS2017 export (52 features + grouped 'Attack Type')",
            columns=(*CIC_CLEANED_FEATURES, "Attack Type"),
            required=CIC_CLEANED_FEATURES,
            features=CIC_CLEANED_FEATURES,
            label_columns=("Attack Type",),
        ),
        TableFormat(
            name="unsw-nb15",
            feature_format="unsw-nb15",
            description="UNSW-NB15 training/testing partition CSV (45 columns)",
            columns=UNSW_COLUMNS,
            required=UNSW_FEATURES,
            features=UNSW_FEATURES,
            categorical=("proto", "service", "state"),
            label_columns=("attack_cat", "label"),
        ),
        TableFormat(
            name="unsw-nb15-raw",
            feature_format="unsw-nb15",
            description="UNSW-NB15 raw CSV (UNSW-NB15_1..4.csv, 49 columns, no header)",
            columns=UNSW_RAW_COLUMNS,
            required=UNSW_RAW_COLUMNS[:-2],
            features=UNSW_RAW_FEATURES,
            categorical=("proto", "service", "state"),
            label_columns=("attack_cat", "Label"),
            header=False,
            temporal=True,
            renames=UNSW_RAW_RENAMES,
        ),
        TableFormat(
            name="ton-iot",
            feature_format="ton-iot",
            description="ToN-IoT train_test_network CSV (44 columns, optional ts)",
            columns=TON_COLUMNS,
            required=TON_COLUMNS[:-2],
            features=TON_FEATURES,
            categorical=tuple(TON_CATEGORICAL),
            label_columns=("type", "label"),
            missing_tokens=("-",),
        ),
        TableFormat(
            name="nsl-kdd",
            feature_format="nsl-kdd",
            description="NSL-KDD KDDTrain+/KDDTest+ .txt (41 features, attack name, difficulty; "
            "no header)",
            columns=(*KDD_FEATURES, "label", "difficulty"),
            required=KDD_FEATURES,
            features=KDD_FEATURES,
            categorical=KDD_CATEGORICAL,
            label_columns=("label",),
            header=False,
        ),
        TableFormat(
            name="nsl-kdd-arff",
            feature_format="nsl-kdd",
            description="NSL-KDD .arff (41 features + class normal/anomaly)",
            columns=(*KDD_FEATURES, "class"),
            required=KDD_FEATURES,
            features=KDD_FEATURES,
            categorical=KDD_CATEGORICAL,
            label_columns=("class",),
        ),
        TableFormat(
            name=EXPORT_FORMAT,
            feature_format="any",
            description="IDS Desktop's own export (CSV or Parquet; any feature format)",
            columns=(
                *schema.IDENTITY_COLUMNS,
                *schema.LABEL_COLUMNS,
                SOURCE_FORMAT_COLUMN,
                SOURCE_TEMPORAL_COLUMN,
            ),
            required=(
                *schema.IDENTITY_COLUMNS,
                *schema.LABEL_COLUMNS,
                SOURCE_FORMAT_COLUMN,
            ),
            features=(),
        ),
    )
}

#: Feature family -> features known to be categorical (used when reading the export back).
CATEGORICAL_BY_FEATURE_FORMAT: dict[str, frozenset[str]] = {}
for _spec in TABLE_FORMATS.values():
    if _spec.name != EXPORT_FORMAT:
        CATEGORICAL_BY_FEATURE_FORMAT.setdefault(_spec.feature_format, frozenset())
        CATEGORICAL_BY_FEATURE_FORMAT[_spec.feature_format] |= frozenset(_spec.categorical)

_HEADERLESS_FIELD_COUNTS: dict[str, tuple[int, ...]] = {
    "nsl-kdd": (43, 42, 41),
    "unsw-nb15-raw": (49, 47),
}
_HEADERLESS_SHAPES: dict[str, str] = {
    "nsl-kdd": "42 or 43 fields (41 when unlabelled)",
    "unsw-nb15-raw": "49 fields (47 when unlabelled)",
}

# ---------------------------------------------------------------------------------------------
# Decoding: UTF-8 with a Windows-1252 fallback
# ---------------------------------------------------------------------------------------------

_FALLBACK_ERRORS = "ids_desktop_cp1252"
_decode_state = threading.local()


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode bytes that are not UTF-8 as cp1252 (Latin-1 if undefined)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    _decode_state.fallbacks = getattr(_decode_state, "fallbacks", 0) + 1
    chars = []
    for byte in chunk:
        try:
            chars.append(bytes((byte,)).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars), exc.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


# ---------------------------------------------------------------------------------------------
# Reading state
# ---------------------------------------------------------------------------------------------


@dataclass
class _Stats:
    """What a read learned chunk by chunk, turned into warnings at the end."""

    nan: Counter = field(default_factory=Counter)
    inf: Counter = field(default_factory=Counter)
    bad: Counter = field(default_factory=Counter)
    unknown_labels: Counter = field(default_factory=Counter)
    bad_times: int = 0
    bad_ports: int = 0
    blank_rows: int = 0
    inconsistent_labels: int = 0

    def feature_warnings(self) -> list[str]:
        """One line per numeric feature that had NaN, infinite or non-numeric cells."""
        out = []
        for name in dict.fromkeys([*self.nan, *self.inf, *self.bad]):
            parts = []
            if self.nan[name]:
                parts.append(f"{self.nan[name]} NaN")
            if self.inf[name]:
                parts.append(f"{self.inf[name]} infinite")
            if self.bad[name]:
                parts.append(f"{self.bad[name]} non-numeric")
            if parts:
                joined = " and ".join(
                    [", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts
                )
                out.append(f"{name}: {joined} values set to missing")
        return out


@dataclass
class _Plan:
    """How to read one file: its format, the column names to give pandas, what to skip."""

    spec: TableFormat
    names: list[str]
    header_lines: int
    has_header: bool
    arff: _arff.ArffHeader | None = None
    ignored: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    export: _ExportInfo | None = None
    sep: str = ","
    encoding: str = "utf-8"


#: What a corrupt or cut-short gzip stream raises while it is read.
_STREAM_ERRORS: tuple[type[BaseException], ...] = (gzip.BadGzipFile, EOFError, zlib.error, OSError)


class _Source:
    """An open table file: raw bytes (for progress), optional gzip layer, decoded text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.total = path.stat().st_size
            self.raw: BinaryIO = path.open("rb")
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        magic = self.raw.read(2)
        self.raw.seek(0)
        self.compressed = magic == b"\x1f\x8b"
        inner: Any = gzip.GzipFile(fileobj=self.raw) if self.compressed else self.raw
        try:
            bom = inner.peek(2)[:2]
        except _STREAM_ERRORS as exc:
            self.raw.close()
            raise InputError(f"{path.name}: the compressed stream is corrupt ({exc})") from None
        # Excel's "Unicode text" is UTF-16 with a byte-order mark; everything else UTF-8.
        encoding = "utf-16" if bom in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
        self.encoding = encoding
        self.text: TextIO = io.TextIOWrapper(
            inner, encoding=encoding, errors=_FALLBACK_ERRORS, newline=""
        )

    def position(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a corrupt gzip stream may raise again
            self.text.close()
        self.raw.close()

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_line(source: _Source) -> str:
    """One line from the text stream, refusing lines longer than :data:`MAX_HEADER_CHARS`."""
    try:
        line = source.text.readline(MAX_HEADER_CHARS)
    except _STREAM_ERRORS as exc:
        raise InputError(f"{source.path.name}: the compressed stream is corrupt ({exc})") from None
    if len(line) >= MAX_HEADER_CHARS and not line.endswith(("\n", "\r")):
        raise InputError(
            f"{source.path.name}: the first line is longer than {MAX_HEADER_CHARS} characters; "
            "this is not a text table (choose a CSV, .txt or .arff file)"
        )
    return line


def _sniff_sep(line: str) -> str:
    """The field delimiter of a header line: a comma unless there is none but tabs or ';'."""
    if "," in line:
        return ","
    counts = {sep: line.count(sep) for sep in ("\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _split_fields(line: str, sep: str = ",") -> list[str]:
    """The fields of one delimited line, whitespace-stripped."""
    try:
        row = next(csv.reader([line.rstrip("\r\n")], delimiter=sep))
    except (csv.Error, StopIteration):
        row = line.rstrip("\r\n").split(sep)
    return [" ".join(f.split()) for f in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dedupe(names: list[str]) -> tuple[list[str], list[str]]:
    """Rename repeated names pandas-style (``X``, ``X.1``, ...); also return the repeats."""
    seen: Counter = Counter()
    taken = set(names)
    out, repeats = [], []
    for name in names:
        if seen[name]:
            k = seen[name]
            candidate = f"{name}.{k}"
            while candidate in taken:
                k += 1
                candidate = f"{name}.{k}"
            seen[name] = k + 1
            taken.add(candidate)
            out.append(candidate)
            repeats.append(name)
        else:
            seen[name] = 1
            out.append(name)
    return out, repeats


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str, limit: int = 80) -> str:
    """A file's own string made safe for a message: control characters (a terminal escape
    sequence hidden in a label or column name) shown as ``\\x1b``, length bounded."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[:limit] + "…"


def _quote_list(names: list[str] | tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(f"'{_printable(str(n))}'" for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return shown + more


# ---------------------------------------------------------------------------------------------
# Format detection
# ---------------------------------------------------------------------------------------------


def _canonical_names(spec: TableFormat, names: list[str]) -> list[str]:
    """Map file column names to the spec's spelling, matching case-insensitively."""
    lookup = {c.lower(): c for c in spec.columns}
    return [lookup.get(n.lower(), n) for n in names]


def _match_header(spec: TableFormat, names: list[str]) -> tuple[int, list[str]]:
    """How many of ``spec.required`` the header has, and which are missing."""
    present = {n.lower() for n in names}
    missing = [c for c in spec.required if c.lower() not in present]
    return len(spec.required) - len(missing), missing


def _headerless_match(name: str, fields: list[str]) -> bool:
    """True when a first line of data fits a headerless format's shape."""
    if len(fields) not in _HEADERLESS_FIELD_COUNTS[name]:
        return False
    if name == "nsl-kdd":
        return _is_number(fields[0]) and fields[1].lower() in ("tcp", "udp", "icmp")
    # unsw-nb15-raw: source address, then ports, Stime/Ltime numbers
    return (
        ("." in fields[0] or ":" in fields[0])
        and not _is_number(fields[0])
        and _is_number(fields[28])
        and _is_number(fields[29])
    )


def _header_formats() -> list[TableFormat]:
    return [s for s in TABLE_FORMATS.values() if s.name not in (EXPORT_FORMAT, "nsl-kdd-arff")]


def _plan_for(spec: TableFormat, fields: list[str], path: Path) -> _Plan:
    """Decide how to read a file whose first line has ``fields`` as format ``spec``."""
    name = path.name
    if not spec.header:
        matched, _ = _match_header(spec, fields)
        if matched < max(1, len(spec.required) // 2):
            counts = _HEADERLESS_FIELD_COUNTS[spec.name]
            if len(fields) not in counts or not _headerless_match(spec.name, fields):
                raise SchemaError(
                    f"{name}: not a {spec.name} table: it has no header and its lines should "
                    f"have {_HEADERLESS_SHAPES[spec.name]}, but the first has {len(fields)}"
                    + ("" if len(fields) not in counts else " with unexpected values")
                )
            names = list(spec.columns[: len(fields)])
            if spec.name == "nsl-kdd" and len(fields) < 43:
                names = [*KDD_FEATURES, "label"][: len(fields)]
            if spec.name == "unsw-nb15-raw" and len(fields) == 47:
                names = list(spec.columns[:47])
            return _Plan(spec, names, 0, False)
    names, repeats = _dedupe(_canonical_names(spec, fields))
    matched, missing = _match_header(spec, names)
    if missing:
        raise SchemaError(
            f"{name}: not a {spec.name} table: {len(missing)} of its {len(spec.required)} "
            f"expected columns are missing: {_quote_list(missing)}"
        )
    plan = _Plan(spec, names, 1, True)
    known_repeat = spec.feature_format == "cic-ids2017"
    odd = [r for r in repeats if not (known_repeat and r == "Fwd Header Length")]
    if odd:
        plan.warnings.append(
            f"duplicated column names {_quote_list(sorted(set(odd)))}; later copies were "
            "renamed (X.1, X.2, ...) and ignored"
        )
    wanted = {c.lower() for c in spec.columns}
    if spec.name == "ton-iot":
        wanted.add("ts")
    if spec.name == "nsl-kdd":
        wanted |= set(KDD_LABEL_ALIASES) | set(KDD_DIFFICULTY_ALIASES)
    plan.ignored = [n for n in names if n.lower() not in wanted]
    plan.missing_optional = [
        c
        for c in spec.columns
        if c not in spec.required and c not in spec.label_columns and c not in names
    ]
    return plan


def _detect(fields: list[str], path: Path) -> _Plan:
    """Pick the format whose columns the first line matches; raise a helpful error if none."""
    lowered = {f.lower() for f in fields}
    export = TABLE_FORMATS[EXPORT_FORMAT]
    if all(c.lower() in lowered for c in export.required):
        return _plan_for(export, fields, path)
    best: tuple[int, TableFormat] | None = None
    closest: tuple[float, TableFormat, list[str]] | None = None
    for spec in _header_formats():
        matched, missing = _match_header(spec, fields)
        if not missing and (best is None or matched > best[0]):
            best = (matched, spec)
        share = matched / len(spec.required)
        if closest is None or share > closest[0]:
            closest = (share, spec, missing)
    if best is not None:
        return _plan_for(best[1], fields, path)
    for name in ("nsl-kdd", "unsw-nb15-raw"):
        if _headerless_match(name, fields):
            return _plan_for(TABLE_FORMATS[name], fields, path)
    supported = ", ".join(TABLE_FORMATS)
    hint = ""
    if closest is not None and closest[0] > 0:
        share, spec, missing = closest
        hint = (
            f" Closest is {spec.name}, which also needs {len(missing)} columns: "
            f"{_quote_list(missing)}."
        )
    else:
        hint = (
            f" The first line has {len(fields)} fields and no known column names "
            "(headerless files: nsl-kdd has 42 or 43 fields, unsw-nb15-raw 49)."
        )
    raise SchemaError(
        f"{path.name}: the columns match no supported table format ({supported}).{hint} "
        "Use --format to force one."
    )


# ---------------------------------------------------------------------------------------------
# Column conversion (vectorised)
# ---------------------------------------------------------------------------------------------


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    )


def _text(series: pd.Series, tokens: tuple[str, ...] = ()) -> pd.Series:
    """Whitespace-stripped text (dtype ``str``); empty cells and ``tokens`` become missing."""
    if not _is_text(series) and pd.api.types.is_float_dtype(series.dtype):
        # numbers in a text column (e.g. from Parquet): 46.0 reads "46", as the CSV would
        values = series.astype("float64")
        whole = values.notna() & (values == values.round())
        out = values.astype("str")
        if whole.any():
            out[whole] = values[whole].astype("int64").astype("str")
        series = out
    out = series.astype("str").str.strip()
    drop = out.eq("")
    if tokens:
        drop |= out.isin(tokens)
    return out.mask(drop.fillna(False))


def _numeric(
    series: pd.Series, name: str, stats: _Stats, tokens: tuple[str, ...] = ()
) -> np.ndarray:
    """float64 values; NaN, infinite and non-numeric cells become NaN and are counted.

    Cells equal to one of ``tokens`` (the format's own "missing" marker) become NaN uncounted.
    """
    if _is_text(series):
        text = series.astype("str").str.strip()
        missing = (text.isna() | text.eq("") | text.str.lower().isin(("nan", "na"))).to_numpy(
            dtype=bool
        )
        skip = missing | (text.isin(tokens).to_numpy(dtype=bool) if tokens else False)
        values = pd.to_numeric(text.mask(skip), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        bad = int((np.isnan(values) & ~skip).sum())
        nan = int(missing.sum())
    else:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = 0
        nan = int(np.isnan(values).sum())
    inf = np.isinf(values)
    n_inf = int(inf.sum())
    if n_inf:
        values = values.copy()
        values[inf] = np.nan
    if nan:
        stats.nan[name] += nan
    if n_inf:
        stats.inf[name] += n_inf
    if bad:
        stats.bad[name] += bad
    return values


_MAX_INT = 2.0**53  # larger numbers are not exact in float64 and are no port or protocol


def _finite(values: pd.Series) -> pd.Series:
    """float64 values with infinite and absurdly large ones set to NaN."""
    numbers = pd.to_numeric(values, errors="coerce")
    out = pd.Series(numbers.to_numpy(dtype="float64", na_value=np.nan), index=values.index)
    return out.where(out.abs() < _MAX_INT)


def _int64(series: pd.Series, stats: _Stats | None = None) -> pd.Series:
    """Nullable Int64; text cells may be decimal or hex (``0x000b``)."""
    if not _is_text(series):
        values = _finite(series)
        if stats is not None:
            stats.bad_ports += int((values.isna() & series.notna()).sum())
        return values.round().astype("Int64")
    text = series.astype("str").str.strip()
    values = _finite(text)
    hexed = text.str.lower().str.startswith("0x").fillna(False) & values.isna()
    if hexed.any():
        # the raw UNSW-NB15 files write a few ports in hex; a small subset, so a loop is fine
        values[hexed] = [_hex(v) for v in text[hexed]]
        values = values.where(values.abs() < _MAX_INT)
    if stats is not None:
        stats.bad_ports += int((values.isna() & text.notna() & ~text.isin(("-", ""))).sum())
    return values.round().astype("Int64")


def _protocol(series: pd.Series) -> pd.Series:
    """IANA protocol numbers (:func:`schema.protocol_number`) with absurd numbers missing."""
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return schema.protocol_number(series.mask(np.abs(numbers) >= _MAX_INT))


def _hex(text: str) -> float:
    try:
        return float(int(text, 16))
    except ValueError:
        return float("nan")


def _float(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    if not isinstance(values, pd.Series):
        values = pd.Series(values)
    out = np.array(values.to_numpy(dtype="float64", na_value=np.nan), dtype="float64", copy=True)
    out[np.isinf(out)] = np.nan
    return out


def _epoch_seconds(series: pd.Series, stats: _Stats) -> np.ndarray:
    """Parse timestamps to UTC epoch seconds; day-first CIC styles, ISO 8601 or numbers."""
    out = np.full(len(series), np.nan)
    if not _is_text(series):
        return _plausible_times(_float(series), stats)
    text = series.astype("str").str.strip()
    present = text.notna().to_numpy(dtype=bool)
    numbers = _finite(text).to_numpy(dtype="float64", na_value=np.nan)
    done = ~np.isnan(numbers)
    out[done] = numbers[done]
    for fmt in (
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %I:%M:%S %p",
        "%d/%m/%Y %I:%M %p",
        "ISO8601",
    ):
        todo = present & np.isnan(out)
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
        secs = (parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        out[todo] = secs.to_numpy(dtype="float64", na_value=np.nan)
    stats.bad_times += int((present & np.isnan(out)).sum())
    return _plausible_times(out, stats)


#: Times kept: from 1970 to before pandas' datetime limit (April 2262); anything else is
#: damage, and would break every date formatting downstream (reports, the table view).
_MAX_EPOCH_S = 9.2e9


def _plausible_times(seconds: np.ndarray, stats: _Stats) -> np.ndarray:
    """``seconds`` with values outside 1970-2261 set to NaN (and counted as bad times)."""
    seconds = np.asarray(seconds, dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(seconds) & ~((seconds >= 0) & (seconds < _MAX_EPOCH_S))
    if bad.any():
        stats.bad_times += int(bad.sum())
        seconds = np.where(bad, np.nan, seconds)
    return seconds


def _labels(
    original: pd.Series | None,
    binary: pd.Series | None,
    mapping: dict[str, str],
    stats: _Stats,
    *,
    normalise: Callable[[pd.Series], pd.Series] | None = None,
) -> dict[str, Any]:
    """Canonical ``label_binary``, ``label_class`` and ``label_original`` from source labels."""
    cols: dict[str, Any] = {}
    if original is None and binary is None:
        return cols
    n = len(original if original is not None else binary)
    index = pd.RangeIndex(n)
    bin_values = None
    if binary is not None:
        bin_values = pd.to_numeric(
            binary.astype("str").str.strip() if _is_text(binary) else binary, errors="coerce"
        )
        bin_values = bin_values.where(bin_values.isin([0, 1])).reset_index(drop=True)
    if original is not None:
        orig = _text(original).reset_index(drop=True)
        key = orig.str.lower()
        if normalise is not None:
            key = normalise(key)
        cls = key.map(mapping)
        unknown = orig.notna() & cls.isna()
        if unknown.any():
            stats.unknown_labels.update(orig[unknown].value_counts().to_dict())
            cls = cls.mask(unknown, "attack")
    else:
        orig = pd.Series(pd.NA, index=index, dtype="string")
        cls = pd.Series(np.nan, index=index, dtype="object")
    derived = (cls != schema.BENIGN).astype("float64").where(cls.notna())
    if bin_values is None:
        bin_values = derived
    else:
        from_binary = bin_values.map({0: schema.BENIGN, 1: "attack"})
        cls = cls.where(cls.notna(), from_binary)
        stats.inconsistent_labels += int(
            ((bin_values == 0) & cls.notna() & (cls != schema.BENIGN)).sum()
            + ((bin_values == 1) & (cls == schema.BENIGN)).sum()
        )
        derived = (cls != schema.BENIGN).astype("float64").where(cls.notna())
        bin_values = bin_values.where(bin_values.notna(), derived)
    cols["label_binary"] = bin_values.round().astype("Int8")
    cols["label_class"] = cls.astype("string")
    cols["label_original"] = orig.astype("string")
    return cols


def _web_attack(key: pd.Series) -> pd.Series:
    return key.mask(key.str.startswith("web attack").fillna(False), "web attack")


def _kdd_key(key: pd.Series) -> pd.Series:
    return key.str.rstrip(".")


# ---------------------------------------------------------------------------------------------
# Per-format adapters: identity and labels from a chunk with canonical column names
# ---------------------------------------------------------------------------------------------


def _col(chunk: pd.DataFrame, name: str) -> pd.Series | None:
    return chunk[name] if name in chunk.columns else None


def _adapt_cic(chunk: pd.DataFrame, spec: TableFormat, stats: _Stats) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if "Destination Port" in chunk:
        cols["dst_port"] = _int64(chunk["Destination Port"], stats)
    if spec.name == "cic-ids2017-traffic":
        cols["src_ip"] = _text(chunk["Source IP"]).astype("string")
        cols["dst_ip"] = _text(chunk["Destination IP"]).astype("string")
        cols["src_port"] = _int64(chunk["Source Port"], stats)
        cols["protocol"] = _protocol(chunk["Protocol"])
        first = _epoch_seconds(chunk["Timestamp"], stats)
        cols["first_seen"] = first
        if "Flow Duration" in chunk:  # microseconds
            duration = _float(chunk["Flow Duration"])
            duration[duration < 0] = np.nan
            cols["last_seen"] = first + duration / 1e6
    if spec.name == "cic-ids2017-cleaned":
        cols.update(_labels(_col(chunk, "Attack Type"), None, CIC_CLEANED_LABELS, stats))
    else:
        cols.update(_labels(_col(chunk, "Label"), None, CIC_LABELS, stats, normalise=_web_attack))
    return cols


def _adapt_unsw(chunk: pd.DataFrame, spec: TableFormat, stats: _Stats) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "protocol": _protocol(chunk["proto"]),
        "application": _text(chunk["service"], ("-",)).astype("string"),
    }
    binary_name = "label"
    if spec.name == "unsw-nb15-raw":
        binary_name = "Label"
        cols["src_ip"] = _text(chunk["srcip"]).astype("string")
        cols["dst_ip"] = _text(chunk["dstip"]).astype("string")
        cols["src_port"] = _int64(chunk["sport"], stats)
        cols["dst_port"] = _int64(chunk["dsport"], stats)
        cols["first_seen"] = _float(chunk["Stime"])
        cols["last_seen"] = _float(chunk["Ltime"])
    original = _col(chunk, "attack_cat")
    binary = _col(chunk, binary_name)
    if original is not None and binary is not None:
        original = _text(original)
        normal = original.isna() & (pd.to_numeric(binary, errors="coerce") == 0)
        original = original.mask(normal, "Normal")
    cols.update(_labels(original, binary, UNSW_LABELS, stats))
    return cols


def _adapt_ton(chunk: pd.DataFrame, spec: TableFormat, stats: _Stats) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "src_ip": _text(chunk["src_ip"], ("-",)).astype("string"),
        "dst_ip": _text(chunk["dst_ip"], ("-",)).astype("string"),
        "src_port": _int64(chunk["src_port"], stats),
        "dst_port": _int64(chunk["dst_port"], stats),
        "protocol": _protocol(chunk["proto"]),
        "application": _text(chunk["service"], ("-",)).astype("string"),
    }
    if "ts" in chunk:
        first = _epoch_seconds(chunk["ts"], stats)
        cols["first_seen"] = first
        if "duration" in chunk:
            duration = _float(chunk["duration"])
            duration[duration < 0] = np.nan
            cols["last_seen"] = first + duration
    cols.update(_labels(_col(chunk, "type"), _col(chunk, "label"), TON_LABELS, stats))
    return cols


def _adapt_kdd(chunk: pd.DataFrame, spec: TableFormat, stats: _Stats) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "protocol": _protocol(chunk["protocol_type"]),
        "application": _text(chunk["service"]).astype("string"),
    }
    label = None
    for name in (*spec.label_columns, *KDD_LABEL_ALIASES):
        if name in chunk:
            label = chunk[name]
            break
    cols.update(_labels(label, None, NSL_LABELS, stats, normalise=_kdd_key))
    return cols


_ADAPTERS: dict[str, Callable[[pd.DataFrame, TableFormat, _Stats], dict[str, Any]]] = {
    "cic-ids2017": _adapt_cic,
    "cic-ids2017-traffic": _adapt_cic,
    "cic-ids2017-cleaned": _adapt_cic,
    "unsw-nb15": _adapt_unsw,
    "unsw-nb15-raw": _adapt_unsw,
    "ton-iot": _adapt_ton,
    "nsl-kdd": _adapt_kdd,
    "nsl-kdd-arff": _adapt_kdd,
}


def _convert(chunk: pd.DataFrame, spec: TableFormat, start: int, stats: _Stats) -> pd.DataFrame:
    """Turn one chunk (canonical source names) into canonical rows, flow ids from ``start``.

    Rows with no value at all are skipped (and counted); the others keep their data row number
    as ``flow_id``.
    """
    chunk = chunk.reset_index(drop=True)
    ids = np.arange(start, start + len(chunk), dtype="int64")
    if len(chunk.columns) and len(chunk):
        blank = chunk.isna().all(axis=1).to_numpy(dtype=bool)
        if blank.any():
            stats.blank_rows += int(blank.sum())
            chunk = chunk.loc[~blank].reset_index(drop=True)
            ids = ids[~blank]
    if spec.renames:
        chunk = chunk.rename(columns=spec.renames)
    n = len(chunk)
    base = schema.empty_identity(n)
    data: dict[str, Any] = {c: base[c] for c in base.columns}
    data["flow_id"] = pd.Series(ids, dtype="int64")
    for name, values in _ADAPTERS[spec.name](chunk, spec, stats).items():
        dtype = {**schema.IDENTITY_DTYPES, **schema.LABEL_DTYPES}[name]
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        data[name] = series.reset_index(drop=True).astype(dtype)
    categorical = set(spec.categorical)
    for name in spec.features:
        if name not in chunk.columns:
            continue
        if name in categorical:
            data[name] = _text(chunk[name], spec.missing_tokens).reset_index(drop=True)
        else:
            data[name] = pd.Series(
                _numeric(chunk[name], name, stats, spec.missing_tokens), dtype="float64"
            )
    return pd.DataFrame(data, index=pd.RangeIndex(n))


# ---------------------------------------------------------------------------------------------
# Chunk sources
# ---------------------------------------------------------------------------------------------

_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_PARSER_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def _csv_chunks(
    source: _Source,
    plan: _Plan,
    chunk_rows: int,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Yield raw chunks with ``plan.names`` as columns, pandas' C parser, errors explained."""
    dtype: dict[str, Any] = {n: "str" for n in plan.names if n in plan.spec.categorical}
    for name in (*plan.spec.label_columns, *KDD_LABEL_ALIASES):
        if name in plan.names:
            dtype[name] = "str"
    if plan.spec.name == "cic-ids2017-traffic":
        dtype.update({n: "str" for n in ("Flow ID", "Source IP", "Destination IP", "Timestamp")})
    if plan.spec.name == "unsw-nb15-raw":
        dtype.update({n: "str" for n in ("srcip", "dstip", "sport", "dsport")})
    if plan.spec.name == "ton-iot":
        dtype.update({n: "str" for n in ("src_ip", "dst_ip")})
    dtype.update(options.pop("dtype", {}))
    dtype = {n: d for n, d in dtype.items() if n in plan.names}
    try:
        reader = pd.read_csv(
            source.text,
            sep=plan.sep,
            header=None,
            names=plan.names,
            dtype=dtype,
            chunksize=chunk_rows,
            low_memory=False,
            engine="c",
            skip_blank_lines=True,
            # Never an implicit index: when the first data row has more fields than the
            # header, pandas would otherwise turn the extra leading fields into a (Multi)Index,
            # shifting every column (and a 100,000-field row took 45 s to build that index).
            # Too-long first rows are refused in _read_text; later ones raise ParserError.
            index_col=False,
            **options,
        )
        with reader:
            yield from reader
    except pd.errors.ParserError as exc:
        match = _PARSER_LINE.search(str(exc))
        if match:
            expected, line, saw = (int(g) for g in match.groups())
            raise InputError(
                f"{source.path.name}: line {line + plan.header_lines} has {saw} fields but the "
                f"table has {expected} columns; the file is not a consistent CSV table"
            ) from None
        quote = _PARSER_QUOTE.search(str(exc))
        if quote:
            raise InputError(
                f"{source.path.name}: a quoted field opened in data row {int(quote.group(1)) + 1} "
                "is never closed; the file is not a consistent CSV table"
            ) from None
        raise InputError(f"{source.path.name}: malformed table ({_first_line(exc)})") from None
    except pd.errors.EmptyDataError:
        return
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(
            f"{source.path.name}: the compressed stream is corrupt or cut short ({exc})"
        ) from None
    except (ValueError, TypeError, UnicodeError, OverflowError) as exc:
        raise InputError(
            f"{source.path.name}: cannot be parsed as a table ({_first_line(exc)})"
        ) from None


def _chunk_rows() -> int:
    """Rows per read step: the ``csv_chunk_rows`` setting, at most :data:`MAX_CHUNK_ROWS`."""
    return max(1, min(int(DEFAULTS_.DEFAULT_CSV_CHUNK_ROWS), MAX_CHUNK_ROWS))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    # parser messages quote the offending cell: bound it and show control characters escaped
    return _printable(text[-1], 300) if text else type(exc).__name__


def _consume(source: _Source, lines: int) -> None:
    for _ in range(lines):
        _read_line(source)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def read_table(
    path: Path,
    fmt: str | None = None,
    *,
    progress: Progress | None = None,
    cancel: object | None = None,
    parquet: bool = False,
) -> IngestResult:
    """Read a dataset table or the app's own export into the canonical flow table.

    Parameters
    ----------
    path
        A CSV (plain or gzip), NSL-KDD .txt/.arff, or Parquet file.
    fmt
        Force a format from :data:`TABLE_FORMATS`; ``None`` detects it from the header or the
        first line.
    progress
        ``progress(done, total, "reading")`` after each chunk: bytes of the file consumed (the
        compressed bytes for gzip), rows for Parquet.
    cancel
        A :class:`~ids_desktop.core.tasks.CancelToken`, checked between chunks.
    parquet
        True when the file is Parquet (the dispatcher sniffs the magic number).

    Returns
    -------
    IngestResult
        The canonical frame, the format, feature format, temporal flag and warnings.

    Raises
    ------
    InputError
        The file is missing, empty, corrupt or not text.
    SchemaError
        The columns match no supported format, or not the forced one.
    CancelledError
        ``cancel`` was set.

    Notes
    -----
    Every format is declared once in :data:`TABLE_FORMATS`. Reading is chunked
    (``csv_chunk_rows`` rows at a time, at most :data:`MAX_CHUNK_ROWS`) and vectorised.
    Choices worth knowing:

    - Numeric features are float64 (as :mod:`ids_desktop.core.schema` says); NaN, infinite and
      non-numeric cells become missing and are counted per column in the warnings.
    - Text is decoded as UTF-8; bytes that are not UTF-8 are decoded as Windows-1252 (Latin-1
      for the five bytes cp1252 leaves undefined) and one warning says so.
    - A file with a header but no data rows gives an empty table (0 flows) and a warning; a
      file with no content at all is an :class:`~ids_desktop.errors.InputError`.
    - A data line with more fields than the header is an error naming the line (the columns
      would be shifted); a shorter line is kept and its missing cells are missing. No row with
      a value is dropped; lines holding nothing but delimiters (CIC-IDS2017's TrafficLabelling
      files have many) are skipped with a warning, and ``flow_id`` stays the data row number.
    - Memory: chunks become canonical rows as they are read and are concatenated once at the
      end, so the peak is about twice the kept frame.
    - The export format (``ids-desktop``) is described in :func:`write_export`. An export
      without rows keeps its feature format only in Parquet (schema metadata).
    """
    path = Path(path)
    if fmt is not None and fmt not in TABLE_FORMATS:
        raise InputError(f"unknown format '{fmt}'; choose one of: {', '.join(TABLE_FORMATS)}")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; choose a CSV, .txt, .arff or .parquet file")
    if not parquet:
        try:
            with path.open("rb") as fh:
                parquet = fh.read(4) == b"PAR1"
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    report = progress or (lambda done, total, stage: None)
    _decode_state.fallbacks = 0
    if parquet:
        return _read_parquet(path, fmt, report, cancel)
    return _read_text(path, fmt, report, cancel)


def _first_nonblank(source: _Source) -> tuple[str, int]:
    """The first non-blank line and how many lines were read to reach it."""
    count = 0
    while True:
        line = _read_line(source)
        if not line:
            return "", count
        count += 1
        if line.strip().lstrip("\ufeff"):
            return line, count


def _read_text(
    path: Path, fmt: str | None, report: Progress, cancel: object | None
) -> IngestResult:
    chunk_rows = _chunk_rows()
    with _Source(path) as source:
        report(0, source.total, "reading")
        first, consumed = _first_nonblank(source)
        if not first:
            raise InputError(f"{path}: the file is empty (no header and no rows)")
        if "\x00" in first or sum(ch < " " and ch not in "\t\r\n" for ch in first) > 2:
            raise InputError(
                f"{path.name}: binary data, not a text table (choose a CSV, .txt or .arff file)"
            )
        is_arff = _arff.looks_like_arff(first)
        if fmt == "nsl-kdd-arff" or (fmt is None and is_arff):
            if not is_arff:
                raise SchemaError(
                    f"{path.name}: not an nsl-kdd-arff file: it has no @relation/@attribute header"
                )
            plan = _plan_arff(path, source)
        elif is_arff:
            raise SchemaError(
                f"{path.name}: is an ARFF file, not a {fmt} table; use --format nsl-kdd-arff"
            )
        else:
            sep = _sniff_sep(first)
            fields = _split_fields(first, sep)
            plan = (
                _detect(fields, path)
                if fmt is None
                else _plan_for(TABLE_FORMATS[fmt], fields, path)
            )
            plan.header_lines = consumed if plan.has_header else consumed - 1
            plan.sep = sep
            if sep != ",":
                plan.warnings.append(f"fields are separated by {sep!r}, not commas")
            row = _check_first_row(source, plan, consumed) if plan.has_header else None
            if plan.spec.name == EXPORT_FORMAT:
                plan.export = _peek_export_info(source, plan, row)
    # Reopen: headerless formats need their first line back, and the counts must start fresh.
    with _Source(path) as source:
        _decode_state.fallbacks = 0  # count each undecodable byte once, in this full pass
        _consume(source, plan.header_lines)
        if plan.spec.name == EXPORT_FORMAT:
            return _read_export_csv(source, plan, chunk_rows, report, cancel)
        options: dict[str, Any] = {}
        if plan.arff is not None:
            options.update(quotechar="'", skipinitialspace=True, comment="%", na_values=["?"])
        stats = _Stats()
        pieces: list[pd.DataFrame] = []
        rows = 0
        chunks = _csv_chunks(source, plan, chunk_rows, **options)
        while True:
            check_cancel(cancel)
            chunk = next(chunks, None)
            if chunk is None:
                break
            pieces.append(_convert(chunk, plan.spec, rows, stats))
            rows += len(chunk)
            report(source.position(), source.total, "reading")
        if not pieces:
            empty = pd.DataFrame({n: pd.Series(dtype="str") for n in plan.names})
            pieces.append(_convert(empty, plan.spec, 0, stats))
        report(source.total, source.total, "reading")
        plan.encoding = source.encoding
        return _finish(path, plan, pieces, stats, compressed=source.compressed)


def _check_first_row(source: _Source, plan: _Plan, header_at: int) -> str:
    """Refuse a first data row with more non-empty fields than the header has columns.

    pandas reads later too-long rows as a ParserError (reported as an InputError), but with
    ``index_col=False`` it silently drops the extra fields of the first data row; an empty
    trailing field (a delimiter at the end of every line) is harmless and allowed. Returns
    the row ("" when there is none).
    """
    skipped = 0
    while True:
        try:
            line = source.text.readline(MAX_HEADER_CHARS)
        except _STREAM_ERRORS as exc:
            raise InputError(f"{source.path.name}: the compressed stream is corrupt ({exc})") from None
        skipped += 1
        if not line or line.strip():
            break
    if not line:
        return ""
    if len(line) >= MAX_HEADER_CHARS and not line.endswith(("\n", "\r")):
        parts = [line]  # a very long row: read the rest of it, within a bound
        for _ in range(MAX_ROW_CHARS // MAX_HEADER_CHARS):
            try:
                more = source.text.readline(MAX_HEADER_CHARS)
            except _STREAM_ERRORS as exc:
                raise InputError(f"{source.path.name}: the compressed stream is corrupt ({exc})") from None
            parts.append(more)
            if not more or more.endswith(("\n", "\r")):
                break
        else:
            raise InputError(
                f"{source.path.name}: line {header_at + skipped} is longer than "
                f"{MAX_ROW_CHARS:,} characters; this is not a flow table"
            )
        line = "".join(parts)
    fields = _split_fields(line, plan.sep)
    extra = fields[len(plan.names) :]
    if any(extra):
        raise InputError(
            f"{source.path.name}: line {header_at + skipped} has {len(fields)} fields but the "
            f"table has {len(plan.names)} columns; the file is not a consistent CSV table"
        )
    return line


def _plan_arff(path: Path, source: _Source) -> _Plan:
    """Plan an ARFF read: the header's attribute names, the spec's label column."""
    source.text.seek(0)
    try:
        header = _arff.read_header(source.text, MAX_HEADER_CHARS)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    spec = TABLE_FORMATS["nsl-kdd-arff"]
    names, repeats = _dedupe(_canonical_names(spec, header.names))
    _, missing = _match_header(spec, names)
    if missing:
        raise SchemaError(
            f"{path.name}: not an nsl-kdd-arff file: {len(missing)} of its "
            f"{len(spec.required)} expected attributes are missing: {_quote_list(missing)}"
        )
    line = _read_line(source)
    while line and (not line.strip() or line.lstrip().startswith("%")):
        line = _read_line(source)
    if line.lstrip().startswith("{"):
        raise InputError(f"{path.name}: sparse ARFF data ({{index value, ...}}) is not supported")
    # The first data row must not be longer than the header (see _check_first_row).
    fields = next(csv.reader([line.rstrip("\r\n")], quotechar="'", skipinitialspace=True), [])
    if any(f.strip() for f in fields[len(names) :]):
        raise InputError(
            f"{path.name}: the first data row has {len(fields)} fields but the header declares "
            f"{len(names)} attributes; the file is not a consistent ARFF table"
        )
    plan = _Plan(spec, names, header.lines, True, arff=header)
    wanted = {c.lower() for c in spec.columns} | set(KDD_LABEL_ALIASES)
    plan.ignored = [n for n in names if n.lower() not in wanted]
    if repeats:
        plan.warnings.append(f"duplicated attribute names {_quote_list(sorted(set(repeats)))}")
    return plan


def _finish(
    path: Path,
    plan: _Plan,
    pieces: list[pd.DataFrame],
    stats: _Stats,
    *,
    compressed: bool,
) -> IngestResult:
    """Concatenate canonical pieces and gather warnings and meta into an :class:`IngestResult`."""
    frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    frame = schema.conform(frame)
    spec = plan.spec
    warnings = list(plan.warnings)
    fallbacks = getattr(_decode_state, "fallbacks", 0)
    if fallbacks:
        warnings.append(
            f"{fallbacks} characters are not valid UTF-8; they were read as Windows-1252 text"
        )
    if len(frame) == 0:
        warnings.append("the table has a header but no data rows: 0 flows")
    if plan.missing_optional:
        warnings.append(f"expected columns missing: {_quote_list(plan.missing_optional)}")
    if plan.ignored:
        warnings.append(
            f"columns not part of {spec.name} were ignored: {_quote_list(plan.ignored)}"
        )
    warnings.extend(stats.feature_warnings())
    if stats.unknown_labels:
        names = [str(k) for k, _ in stats.unknown_labels.most_common()]
        warnings.append(
            f"{sum(stats.unknown_labels.values())} rows have labels unknown to {spec.name} "
            f"({_quote_list(names, 5)}); their class is 'attack'"
        )
    if stats.inconsistent_labels:
        warnings.append(
            f"{stats.inconsistent_labels} rows have a binary label that contradicts their "
            "attack class; both were kept as the source wrote them"
        )
    if stats.blank_rows:
        warnings.append(
            f"{stats.blank_rows} lines hold no values at all (only delimiters) and were skipped"
        )
    if stats.bad_times:
        warnings.append(
            f"{stats.bad_times} timestamps could not be parsed or fall outside 1970-2261 "
            "and are missing"
        )
    if stats.bad_ports:
        warnings.append(f"{stats.bad_ports} port values are not numbers and are missing")
    has_labels = any(c in plan.names for c in (*spec.label_columns, *KDD_LABEL_ALIASES))
    temporal = spec.temporal or (spec.name == "ton-iot" and "ts" in plan.names)
    meta: dict[str, Any] = {
        "rows": len(frame),
        "compressed": compressed,
        "header": plan.has_header,
        "labelled": bool(has_labels),
        "encoding": plan.encoding.replace("-sig", "")
        + (" with cp1252 fallback" if fallbacks else ""),
    }
    if plan.ignored:
        meta["ignored_columns"] = list(plan.ignored)
    if plan.missing_optional:
        meta["missing_columns"] = list(plan.missing_optional)
    if spec.name == "nsl-kdd":
        meta["difficulty_dropped"] = "difficulty" in plan.names
    return IngestResult(
        frame=frame,
        format=spec.name,
        feature_format=spec.feature_format,
        temporal=bool(temporal),
        warnings=warnings,
        source=path,
        meta=meta,
    )


# ---------------------------------------------------------------------------------------------
# The app's own export
# ---------------------------------------------------------------------------------------------

_EXPORT_DTYPES: dict[str, str] = {**schema.IDENTITY_DTYPES, **schema.LABEL_DTYPES}
_EXPORT_EXTRA = (SOURCE_FORMAT_COLUMN, SOURCE_TEMPORAL_COLUMN, SOURCE_DTYPES_COLUMN)


@dataclass
class _ExportInfo:
    """What an export says about itself: feature format, temporal flag, feature dtypes."""

    feature_format: str = ""
    temporal: bool = False
    dtypes: dict[str, str] = field(default_factory=dict)


def _is_text_dtype(name: str) -> bool:
    return name in ("str", "string", "object") or name.startswith("string[")


def _json_dict(text: object) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, (str, bytes)) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _export_info(frame: pd.DataFrame, path: Path, fallback: _ExportInfo) -> _ExportInfo:
    """The export's own description, from its extra columns or else from ``fallback``."""
    info = _ExportInfo(fallback.feature_format, fallback.temporal, dict(fallback.dtypes))
    formats = frame[SOURCE_FORMAT_COLUMN].dropna().astype("str").unique()
    if len(formats) > 1:
        raise SchemaError(
            f"{path.name}: the export mixes feature formats ({', '.join(sorted(formats))})"
        )
    if len(formats):
        info.feature_format = str(formats[0])
    if SOURCE_TEMPORAL_COLUMN in frame.columns:
        flags = pd.to_numeric(frame[SOURCE_TEMPORAL_COLUMN], errors="coerce").dropna()
        if len(flags):
            info.temporal = bool(flags.iloc[0])
    if SOURCE_DTYPES_COLUMN in frame.columns:
        stored = frame[SOURCE_DTYPES_COLUMN].dropna()
        if len(stored):
            info.dtypes = {str(k): str(v) for k, v in _json_dict(stored.iloc[0]).items()}
    return info


def _export_features(frame: pd.DataFrame, info: _ExportInfo) -> pd.DataFrame:
    """Give export feature columns their recorded dtypes (else: numbers float64, text str)."""
    categorical = CATEGORICAL_BY_FEATURE_FORMAT.get(info.feature_format, frozenset())
    for name in schema.feature_columns(frame):
        col = frame[name]
        dtype = info.dtypes.get(name)
        if dtype is None:
            text = name in categorical or (_is_text(col) and not col.isna().all())
            dtype = "str" if text else "float64"
        try:
            if _is_text_dtype(dtype):
                frame[name] = col.astype(dtype)
            else:
                frame[name] = pd.to_numeric(col, errors="coerce").astype(dtype)
        except (TypeError, ValueError):
            frame[name] = pd.to_numeric(col, errors="coerce").astype("float64")
    return frame


def _peek_export_info(source: _Source, plan: _Plan, line: str | None = None) -> _ExportInfo:
    """What an export CSV's first data row (``line``, else read here) says about it."""
    if line is None:
        line = _read_line(source)
        while line and not line.strip():
            line = _read_line(source)
    fields = _split_fields(line, plan.sep) if line else []

    def cell(name: str) -> str:
        index = plan.names.index(name) if name in plan.names else len(fields)
        return fields[index] if index < len(fields) else ""

    dtypes = _json_dict(cell(SOURCE_DTYPES_COLUMN))
    return _ExportInfo(
        feature_format=cell(SOURCE_FORMAT_COLUMN),
        temporal=cell(SOURCE_TEMPORAL_COLUMN) == "1",
        dtypes={str(k): str(v) for k, v in dtypes.items()},
    )


def _read_export_csv(
    source: _Source, plan: _Plan, chunk_rows: int, report: Progress, cancel: object | None
) -> IngestResult:
    """Read the app's own CSV export; text features are read as text, numbers inferred."""
    info = plan.export or _ExportInfo()
    categorical = CATEGORICAL_BY_FEATURE_FORMAT.get(info.feature_format, frozenset())
    dtype: dict[str, Any] = {n: d for n, d in _EXPORT_DTYPES.items() if n in plan.names}
    dtype.update({n: "str" for n in (SOURCE_FORMAT_COLUMN, SOURCE_DTYPES_COLUMN)})
    for name in plan.names:
        if name in dtype or name == SOURCE_TEMPORAL_COLUMN:
            continue
        recorded = info.dtypes.get(name)
        if (recorded is not None and _is_text_dtype(recorded)) or (
            recorded is None and name in categorical
        ):
            dtype[name] = "str"
    dtype = {n: d for n, d in dtype.items() if n in plan.names}
    pieces = []
    try:
        reader = pd.read_csv(
            source.text,
            sep=plan.sep,
            header=None,
            names=plan.names,
            dtype=dtype,
            chunksize=chunk_rows,
            low_memory=False,
            keep_default_na=False,
            na_values=[""],
            index_col=False,  # see _csv_chunks: no implicit index from a too-long first row
        )
        with reader:
            while True:
                check_cancel(cancel)
                chunk = next(reader, None)
                if chunk is None:
                    break
                pieces.append(chunk)
                report(source.position(), source.total, "reading")
    except pd.errors.EmptyDataError:
        pass
    except _STREAM_ERRORS as exc:  # before ValueError: zlib.error and EOFError are not ones
        raise InputError(
            f"{source.path.name}: the compressed stream is corrupt or cut short ({exc})"
        ) from None
    except (pd.errors.ParserError, ValueError, TypeError, OverflowError) as exc:
        raise InputError(
            f"{source.path.name}: not a valid ids-desktop export ({_first_line(exc)})"
        ) from None
    if pieces:
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    else:
        frame = pd.DataFrame({n: pd.Series(dtype=dtype.get(n, "float64")) for n in plan.names})
    report(source.total, source.total, "reading")
    return _export_result(frame, source.path, info, compressed=source.compressed)


def _export_result(
    frame: pd.DataFrame, path: Path, fallback: _ExportInfo, *, compressed: bool
) -> IngestResult:
    """Strip the export's extra columns and restore the canonical frame and its facts."""
    try:
        info = _export_info(frame, path, fallback)
        frame = frame.drop(columns=[c for c in _EXPORT_EXTRA if c in frame.columns])
        frame = schema.conform(_export_features(frame, info))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(
            f"{path.name}: not a valid ids-desktop export ({_first_line(exc)})"
        ) from None
    warnings = [] if len(frame) else ["the table has a header but no data rows: 0 flows"]
    if not info.feature_format:
        warnings.append("the export does not say which feature format it carries")
    return IngestResult(
        frame=frame,
        format=EXPORT_FORMAT,
        feature_format=info.feature_format,
        temporal=info.temporal,
        warnings=warnings,
        source=path,
        meta={"rows": len(frame), "compressed": compressed, "header": True},
    )


def _read_parquet(
    path: Path, fmt: str | None, report: Progress, cancel: object | None
) -> IngestResult:
    """Read a Parquet file: the app's export, or a dataset table with one of the known headers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # A damaged file can make pyarrow raise almost anything (its own errors, JSON, Unicode or
    # key errors from the pandas metadata); all of them mean "corrupt file" here.
    broken = (OSError, ValueError, KeyError, TypeError, IndexError, pa.ArrowException)
    try:
        pf = pq.ParquetFile(path)
        names = list(pf.schema_arrow.names)
        total_rows = pf.metadata.num_rows
    except broken as exc:
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    fields = [" ".join(str(n).split()) for n in names]
    if fmt is None:
        plan = _detect(fields, path)
    else:
        if TABLE_FORMATS[fmt].name == "nsl-kdd-arff":
            raise SchemaError(f"{path.name}: is a Parquet file, not an ARFF file")
        plan = _plan_for(TABLE_FORMATS[fmt], fields, path)
    if not plan.has_header:
        raise SchemaError(f"{path.name}: Parquet columns do not match {plan.spec.name}")
    chunk_rows = _chunk_rows()
    report(0, total_rows, "reading")
    stats = _Stats()
    pieces: list[pd.DataFrame] = []
    rows = 0
    try:
        batches = pf.iter_batches(batch_size=chunk_rows)
        while True:
            check_cancel(cancel)
            batch = next(batches, None)
            if batch is None:
                break
            chunk = pa.Table.from_batches([batch]).to_pandas()
            chunk.columns = plan.names
            if plan.spec.name != EXPORT_FORMAT:
                chunk = _convert(chunk, plan.spec, rows, stats)
            pieces.append(chunk)
            rows += len(batch)
            report(rows, total_rows, "reading")
        if plan.spec.name == EXPORT_FORMAT and not pieces:
            empty = pf.schema_arrow.empty_table().to_pandas()
            empty.columns = plan.names
            pieces.append(empty)
    except broken as exc:
        raise InputError(f"{path}: the Parquet file is corrupt ({_first_line(exc)})") from None
    if plan.spec.name == EXPORT_FORMAT:
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
        stored = _parquet_meta(pf.schema_arrow.metadata)
        dtypes = stored.get("dtypes")
        fallback = _ExportInfo(
            feature_format=str(stored.get("feature_format", "")),
            temporal=bool(stored.get("temporal", False)),
            dtypes={str(k): str(v) for k, v in dtypes.items()} if isinstance(dtypes, dict) else {},
        )
        return _export_result(frame, path, fallback, compressed=False)
    if not pieces:
        empty = pd.DataFrame({n: pd.Series(dtype="str") for n in plan.names})
        pieces.append(_convert(empty, plan.spec, 0, stats))
    return _finish(path, plan, pieces, stats, compressed=False)


def write_export(result: IngestResult, out: Path, *, cancel: object | None = None) -> Path:
    """Write ``result`` as the app's own export, CSV (``.csv``, ``.csv.gz``) or ``.parquet``.

    The table gains three columns that a re-read strips again: ``source_format`` (the feature
    format), ``source_temporal`` (0/1) and ``source_dtypes`` (JSON of the feature dtypes, in the
    first row only), so reading the export gives back the same canonical frame, feature format
    and temporal flag. Parquet also stores these facts in its schema metadata. The file is
    written beside ``out`` under a temporary name and renamed into place; on cancel or error
    the temporary file is removed and nothing is left at ``out``.

    Parameters
    ----------
    result
        What an ingest returned.
    out
        Target path; its suffix picks the format.
    cancel
        Checked between chunks of rows.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    InputError
        For an unsupported suffix or a file that cannot be written.
    CancelledError
        ``cancel`` was set; nothing is written.
    """
    out = Path(out)
    name = out.name.lower()
    if name.endswith(".parquet"):
        kind = "parquet"
    elif name.endswith(".csv.gz"):
        kind = "csv.gz"
    elif name.endswith(".csv"):
        kind = "csv"
    else:
        raise InputError(
            f"{out.name}: choose a file name ending in .csv, .csv.gz or .parquet for the export"
        )
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder to write the export into")
    source = result.frame
    clash = [c for c in _EXPORT_EXTRA if c in source.columns]
    if clash:
        raise InputError(f"cannot export: the flow table already has columns {_quote_list(clash)}")
    info = _ExportInfo(
        feature_format=result.feature_format,
        temporal=bool(result.temporal),
        dtypes={c: str(source[c].dtype) for c in schema.feature_columns(source)},
    )
    n = len(source)
    frame = source.copy(deep=False)
    frame[SOURCE_FORMAT_COLUMN] = pd.Series(
        [info.feature_format] * n, index=frame.index, dtype="str"
    )
    frame[SOURCE_TEMPORAL_COLUMN] = np.full(n, int(info.temporal), dtype="int8")
    dtypes_json = json.dumps(info.dtypes, separators=(",", ":"))
    frame[SOURCE_DTYPES_COLUMN] = pd.Series(
        [dtypes_json] + [None] * (n - 1) if n else [], index=frame.index, dtype="str"
    )
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.part")
    step = max(1, int(DEFAULTS_.DEFAULT_CSV_CHUNK_ROWS))
    try:
        check_cancel(cancel)
        if kind == "parquet":
            _write_parquet(frame, info, tmp, step, cancel)
        else:
            _write_csv(frame, tmp, step, cancel, gz=(kind == "csv.gz"))
        check_cancel(cancel)
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"{out}: cannot be written ({exc.strerror or exc})") from None
        raise
    return out


_PARQUET_META_KEY = b"ids_desktop"


def _parquet_meta(metadata: dict[bytes, bytes] | None) -> dict[str, Any]:
    """The export facts stored in a Parquet schema's metadata (empty when absent)."""
    return _json_dict((metadata or {}).get(_PARQUET_META_KEY, b"{}"))


def _write_csv(
    frame: pd.DataFrame, tmp: Path, step: int, cancel: object | None, *, gz: bool
) -> None:
    """Write ``frame`` as UTF-8 CSV (gzip when ``gz``), ``step`` rows at a time."""
    opener: Callable[..., Any] = gzip.open if gz else open
    with opener(tmp, "wt", encoding="utf-8", newline="") as fh:
        if len(frame) == 0:
            frame.to_csv(fh, index=False, lineterminator="\n")
        for start in range(0, len(frame), step):
            check_cancel(cancel)
            frame.iloc[start : start + step].to_csv(
                fh, index=False, header=(start == 0), lineterminator="\n"
            )


def _write_parquet(
    frame: pd.DataFrame, info: _ExportInfo, tmp: Path, step: int, cancel: object | None
) -> None:
    """Write ``frame`` as Parquet, one row group per ``step`` rows, facts in the metadata."""
    import pyarrow as pa  # pyarrow loads on first Parquet use only: it adds to startup time
    import pyarrow.parquet as pq

    arrow_schema = pa.Schema.from_pandas(frame, preserve_index=False)
    stored = {
        "format": EXPORT_FORMAT,
        "feature_format": info.feature_format,
        "temporal": info.temporal,
        "dtypes": info.dtypes,
    }
    arrow_schema = arrow_schema.with_metadata(
        {**(arrow_schema.metadata or {}), _PARQUET_META_KEY: json.dumps(stored).encode()}
    )

    def table(part: pd.DataFrame) -> pa.Table:
        return pa.Table.from_pandas(part, schema=arrow_schema, preserve_index=False)

    with pq.ParquetWriter(tmp, arrow_schema) as writer:
        if len(frame) == 0:
            writer.write_table(table(frame))
        for start in range(0, len(frame), step):
            check_cancel(cancel)
            writer.write_table(table(frame.iloc[start : start + step]))
