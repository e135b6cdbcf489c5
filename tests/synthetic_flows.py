"""A small canonical temporal flow frame (benign and scanning hosts) for model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ids_desktop.core.schema import conform, empty_identity


def synthetic_frame(n_hosts: int = 12, per_host: int = 40, seed: int = 0) -> pd.DataFrame:
    """A canonical temporal frame: benign hosts and scanning hosts, rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(n_hosts):
        scanner = h % 3 == 0
        t = 1_600_000_000.0 + rng.uniform(0, 1000)
        for _ in range(per_host):
            t += rng.exponential(0.05 if scanner else 5.0)
            rows.append(
                {
                    "src_ip": f"10.0.0.{h}",
                    "first_seen": t,
                    "label_class": "scan" if scanner else "benign",
                    "bytes": rng.lognormal(3 if scanner else 7, 0.6),
                    "packets": rng.poisson(2 if scanner else 20) + 1.0,
                    "duration": rng.exponential(0.01 if scanner else 2.0),
                    "state": rng.choice(["S0", "REJ"]) if scanner else rng.choice(["SF", "S1"]),
                }
            )
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ident = empty_identity(len(df))
    ident["src_ip"] = df["src_ip"].astype("string")
    ident["first_seen"] = df["first_seen"]
    ident["last_seen"] = df["first_seen"] + df["duration"]
    ident["label_class"] = df["label_class"].astype("string")
    ident["label_binary"] = (df["label_class"] != "benign").astype("Int8")
    ident["label_original"] = df["label_class"].astype("string")
    feats = df[["bytes", "packets", "duration"]].astype("float64")
    feats["state"] = df["state"].astype("string")
    return conform(pd.concat([ident, feats], axis=1))
