"""How the capture bundle's training frame weighs its sources: caps, copies, rare-tool repeats.

The lab's ~100k flows would drown the ~200 real-world captures, and a family's floods and scans
its rare tools; these functions share the weight out. Every copy keeps host keys of its own, so
sequences never mix copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: A named part of a training frame: ``("lab:<run>/<file>" | "<kind>/<capture>", flows)``.
Part = tuple[str, pd.DataFrame]


@dataclass(frozen=True)
class Oversampling:
    """The capture recipe's weighting of its sources (recorded in the bundle's metadata).

    Attributes
    ----------
    min_attack_flows
        Each shared attack capture counts as if it had at least this many attack flows
        (repeated, at most ``max_copies`` copies).
    max_copies
        The most copies of one capture or one rare lab tool.
    benign_copies
        Copies of each benign capture, so that 200 real-world captures are not drowned by
        the lab's 100k flows.
    lab_class_cap
        Lab flows kept per attack family (seeded sample; floods and scans repeat themselves),
        shared out over the family's tools by :func:`tool_quotas`.
    min_tool_flows
        Rare lab attacks (``label_original``, summed over the lab runs) are repeated until
        they have at least this many flows (at most ``max_copies`` copies): a family's few
        zone transfers or POST check-ins otherwise weigh as little as a handful of its nmap
        or beacon flows. 0: no repeats.
    """

    min_attack_flows: int = 300
    max_copies: int = 30
    benign_copies: int = 5
    lab_class_cap: int = 4000
    min_tool_flows: int = 150

    def to_metadata(self, lab_sample_seed: int) -> dict[str, int]:
        """The bundle's ``training_oversampling`` record."""
        return {"lab_sample_seed": lab_sample_seed,
                "min_attack_flows": self.min_attack_flows,
                "max_copies": self.max_copies,
                "benign_copies": self.benign_copies,
                "lab_class_cap": self.lab_class_cap,
                "min_tool_flows": self.min_tool_flows}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Oversampling:
        """The weighting a shipped bundle recorded (older bundles: no rare-tool repeats)."""
        over = meta.get("training_oversampling", {})
        return cls(min_attack_flows=int(over.get("min_attack_flows", cls.min_attack_flows)),
                   min_tool_flows=int(over.get("min_tool_flows", 0)))


def copies(name: str, frame: pd.DataFrame, over: Oversampling) -> int:
    """How many times part ``name`` enters the training frame."""
    if name.startswith("lab:"):
        return 1
    attack = int((frame["label_binary"].astype("Int64") == 1).sum())
    if attack:
        return int(np.clip(np.ceil(over.min_attack_flows / attack), 1, over.max_copies))
    return over.benign_copies


def assemble(parts: list[Part], over: Oversampling | None = None, *,
             oversample: bool = True) -> pd.DataFrame:  # fmt: skip
    """One training frame: each capture's hosts kept apart (sequences never cross captures).

    ``oversample``: repeat parts as :func:`copies` says with ``over`` (default: the shipped
    bundle's :class:`Oversampling`), else each part once. The frame carries a ``capture``
    column naming each row's part.
    """
    over = over or Oversampling()
    frames = []
    for name, frame in parts:
        for k in range(copies(name, frame, over) if oversample else 1):
            f = frame.copy()
            f["src_ip"] = f"{name}#{k}|" + f["src_ip"].astype("string").fillna("?")
            f["capture"] = name
            frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    for col in ("label_class", "label_original"):
        out[col] = out[col].astype("string")
    out["label_binary"] = out["label_binary"].astype("Int8")
    return out


def tool_quotas(sizes: dict[str, int], cap: int) -> dict[str, int]:
    """Split a family's ``cap`` over its attacks (``label_original``) by water-filling.

    Attacks with fewer flows than an equal share keep all of them; the share left is split
    equally among the larger ones. A plain random sample of the whole family kept 40 % of
    every scan tool, so the lab's 15 zone-transfer flows shrank to ~6 among 10,000 nmap ones.
    """
    quotas: dict[str, int] = {}
    left, pending = cap, dict(sizes)
    while pending:
        share = left / len(pending)
        small = {k: n for k, n in pending.items() if n <= share}
        if not small:
            return {**quotas, **{k: int(share) for k in pending}}
        for k, n in small.items():
            quotas[k] = n
            left -= n
            del pending[k]
    return quotas


def cap_lab(parts: list[Part], cap: int, seed: int) -> list[Part]:
    """Keep at most ``cap`` lab flows per attack family (benign flows are all kept).

    Within a family the cap is shared out by :func:`tool_quotas`, so a rare attack keeps its
    flows while floods and scans, which repeat themselves, are sampled (seeded).
    """
    if cap <= 0:
        return parts
    sizes: dict[str, dict[str, int]] = {}
    for _, f in parts:
        key = f[["label_class", "label_original"]].astype("string").fillna("?")
        for (cls, tool), n in key.value_counts().items():
            sizes.setdefault(cls, {})
            sizes[cls][tool] = sizes[cls].get(tool, 0) + int(n)
    keep_share = {}
    for cls, tools in sizes.items():
        if cls == "benign" or sum(tools.values()) <= cap:
            continue
        for tool, quota in tool_quotas(tools, cap).items():
            keep_share[(cls, tool)] = quota / tools[tool]
    rng = np.random.default_rng(seed)
    out = []
    for name, f in parts:
        cls = f["label_class"].astype("string").fillna("?").to_numpy(dtype=object)
        tool = f["label_original"].astype("string").fillna("?").to_numpy(dtype=object)
        keep = np.ones(len(f), dtype=bool)
        draw = rng.random(len(f))
        for (c, t), share in keep_share.items():
            idx = (cls == c) & (tool == t)
            keep[idx] = draw[idx] < share
        out.append((name, f[keep].reset_index(drop=True)))
    return out


def rare_tool_copies(parts: list[Part], min_flows: int,
                     max_copies: int = Oversampling.max_copies) -> list[Part]:  # fmt: skip
    """Extra copies of the attack flows of lab tools with fewer than ``min_flows`` flows.

    Each tool gets at most ``max_copies`` in all (the original and its copies); copies are
    hosts of their own, so each keeps its own time order.
    """
    if min_flows <= 0:
        return []
    tools = [f["label_original"].astype("string").fillna("?")
             .where(f["label_binary"].astype("Int64") == 1)
             for _, f in parts]
    sizes = pd.concat(tools).value_counts()
    extra = {t: int(min(np.ceil(min_flows / n), max_copies)) - 1
             for t, n in sizes.items() if n < min_flows}
    out = []
    for (name, f), tool in zip(parts, tools):
        for t, k in extra.items():
            rows = f[(tool == t).fillna(False).to_numpy(dtype=bool)]
            for j in range(k):
                g = rows.copy()
                g["src_ip"] = f"copy{j}:" + g["src_ip"].astype("string").fillna("?")
                out.append((f"{name}#{t}-copy{j}", g))
    return [p for p in out if len(p[1])]
