"""Acceptance targets, in one place: training, the shipping gate, the cards and the benches
read them from here.

Each constant names the issue that set it. A target is what a bundle is measured against;
changing one is a product decision, made here and nowhere else.
"""

from __future__ import annotations

#: Attack-class F1 targets for the hybrid on each dataset's test split, flow by flow (issues 3
#: and 34; ton-iot raised to 0.999 by issue 34, where a RandomForest reaches it).
F1_TARGETS: dict[str, float] = {
    "unsw-nb15": 0.98, "cic-ids2017": 0.985, "ton-iot": 0.999, "nsl-kdd": 0.97,
}
#: False-alarm-rate targets on the test split (issue 3), per feature format; ``pcap``: flows of
#: benign captures flagged at no more than 5 % (issue 5).
FAR_TARGETS: dict[str, float] = {
    "unsw-nb15": 0.02, "cic-ids2017": 0.01, "ton-iot": 0.01, "nsl-kdd": 0.01, "pcap": 0.05,
}
#: The FAR target of a format without its own.
DEFAULT_FAR_TARGET = 0.01

#: Top-5 LIME features' Jaccard index across seeds (issue 6).
STABILITY_TARGET = 0.8
#: Median seconds per explanation on 2 cores (issue 6).
EXPLAIN_MEDIAN_S = 0.5
#: 95th percentile seconds per explanation on 2 cores (issue 6).
EXPLAIN_P95_S = 1.0

#: The capture bundle's shipping gate (issue 5): flows of its own benign captures flagged.
BENIGN_FLAG_LIMIT = 0.05
#: ... the share of the demo capture's office flows flagged, at most.
DEMO_OFFICE_LIMIT = 0.10
#: ... the share of the demo attacker's flows flagged, at least.
DEMO_ATTACKER_MIN = 0.5

#: Everyday applications out of fold (issue 32): flows raising an alert, at most ...
APPS_ALERT_LIMIT = 0.02
#: ... and flows that are alerts or unusual together, at most.
APPS_FLAGGED_LIMIT = 0.05

#: Capture to verdicts against bare nfstream on the same file, paired wall times (issue 5 set
#: 1.5x; issues 32 and 33 tightened it to 1.2x with the detectors in).
CAPTURE_TO_VERDICTS_RATIO = 1.2
