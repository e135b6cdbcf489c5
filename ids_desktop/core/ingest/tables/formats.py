"""The supported table formats: their columns, label vocabularies and :class:`TableFormat` specs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ids_desktop.core import schema

__all__ = [
    "CATEGORICAL_BY_FEATURE_FORMAT",
    "CIC_CLEANED_DROPPED",
    "CIC_CLEANED_FEATURES",
    "CIC_FEATURES",
    "EXPORT_FORMAT",
    "KDD_DIFFICULTY_ALIASES",
    "KDD_FEATURES",
    "KDD_LABEL_ALIASES",
    "TABLE_FORMATS",
    "TON_COLUMNS",
    "UNSW_COLUMNS",
    "UNSW_RAW_COLUMNS",
    "TableFormat",
]

#: The app's own export format name.
EXPORT_FORMAT = "ids-desktop"
#: Extra columns the export carries; stripped again on reading.
SOURCE_FORMAT_COLUMN = "source_format"
SOURCE_TEMPORAL_COLUMN = "source_temporal"
#: JSON of the feature columns' dtypes, in the first data row only (so the CSV stays small).
SOURCE_DTYPES_COLUMN = "source_dtypes"

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
TON_CATEGORICAL: list[str] = (
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
