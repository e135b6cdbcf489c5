"""Per-source-host flow sequences: time-ordered windows of row indices, padded and masked."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Index value marking a padded (absent) position in a window.
PAD = -1


def host_time_keys(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(host_codes, times)`` for ``frame``.

    Flows without a source host or a first-seen time each get a host of their own, so they
    never borrow context from other flows. Row order is never used as time.
    """
    n = len(frame)
    hosts = frame["src_ip"] if "src_ip" in frame.columns else pd.Series([pd.NA] * n)
    times = (
        pd.to_numeric(frame["first_seen"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        if "first_seen" in frame.columns
        else np.full(n, np.nan)
    )
    return address_codes(hosts, np.isnan(times)), np.where(np.isnan(times), 0.0, times)


def address_codes(values: pd.Series, alone: np.ndarray | None = None) -> np.ndarray:
    """Integer codes of addresses: equal addresses share a code, and a missing address (or a
    row where ``alone`` is true) gets a unique code above the real ones, so it never groups
    with another row."""
    factorized, _ = pd.factorize(values.astype("string"), use_na_sentinel=True)
    codes: np.ndarray = factorized.astype(np.int64)
    alone = codes < 0 if alone is None else (codes < 0) | alone
    return np.where(alone, codes.max(initial=-1) + 1 + np.arange(len(codes)), codes)


def build_windows(
    hosts: np.ndarray, times: np.ndarray, seq_len: int, stride: int | None = None
) -> np.ndarray:
    """Windows of row indices, one row per window, left-padded with :data:`PAD`.

    Flows are grouped by ``hosts`` and ordered by ``times`` (ties by row index). Within a
    host of ``n`` flows, windows end at positions ``n-1, n-1-stride, ...`` and hold the
    ``seq_len`` flows up to and including the end; positions before the host's first flow
    are padded. With ``stride == seq_len`` (the default) every flow appears in exactly one
    window; with ``stride == 1`` every flow ends its own window, so a flow's context is the
    ``seq_len - 1`` flows before it.

    Parameters
    ----------
    hosts
        Integer host code per row.
    times
        First-seen time per row (any monotone clock).
    seq_len
        ``T``, the window length.
    stride
        Distance between window ends; ``None`` means ``seq_len``.

    Returns
    -------
    numpy.ndarray
        ``(n_windows, seq_len)`` int64 row indices into the input, :data:`PAD` for padding.
    """
    n = len(hosts)
    stride = seq_len if stride is None else int(stride)
    if seq_len < 1 or stride < 1 or stride > seq_len:
        raise ValueError("need 1 <= stride <= seq_len")
    if n == 0:
        return np.empty((0, seq_len), dtype=np.int64)
    rows = np.arange(n)
    order = np.lexsort((rows, times, hosts))
    sorted_hosts = hosts[order]
    starts = np.flatnonzero(np.r_[True, sorted_hosts[1:] != sorted_hosts[:-1]])
    lengths = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(n) - starts[group]
    from_end = lengths[group] - 1 - pos
    ends = np.flatnonzero(from_end % stride == 0)
    offsets = np.arange(-seq_len + 1, 1)
    sorted_idx = ends[:, None] + offsets[None, :]
    valid = (pos[ends][:, None] + offsets[None, :]) >= 0
    out = np.where(valid, order[np.clip(sorted_idx, 0, n - 1)], PAD)
    return out.astype(np.int64)


def gather(values: np.ndarray, windows: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Gather per-row ``values`` (``(n, ...)``) into ``(n_windows, T, ...)``, ``fill`` at pads."""
    safe = np.where(windows == PAD, 0, windows)
    out = values[safe]
    pad = windows == PAD
    if pad.any():
        out[pad] = fill
    return out


def to_tensor(features: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Model input ``(n_windows, T, F, 2)``: scaled features and a presence-mask channel."""
    x = gather(features.astype(np.float32, copy=False), windows)
    mask = (windows != PAD).astype(np.float32)
    out = np.empty((*x.shape, 2), dtype=np.float32)
    out[..., 0] = x
    out[..., 1] = mask[:, :, None]
    return out


def owners(windows: np.ndarray) -> np.ndarray:
    """For each window position, the row whose output it carries, else ``-1`` (same shape).

    A row that occurs in several windows (``stride < T``) is owned by the position where it
    sits furthest right, that is with the most context before it; pads own nothing.
    """
    flat_idx = windows.reshape(-1)
    out = np.full(flat_idx.shape, -1, dtype=np.int64)
    keep = np.flatnonzero(flat_idx != PAD)
    if keep.size:
        pos = keep % windows.shape[1]
        order = keep[np.lexsort((pos, flat_idx[keep]))]
        rows_sorted = flat_idx[order]
        last = np.r_[rows_sorted[1:] != rows_sorted[:-1], True]
        out[order[last]] = rows_sorted[last]
    return out.reshape(windows.shape)


def scatter(per_position: np.ndarray, windows: np.ndarray, n_rows: int) -> np.ndarray:
    """Map window outputs ``(n_windows, T, ...)`` back to rows (see :func:`owners`)."""
    out = np.zeros((n_rows, *per_position.shape[2:]), dtype=per_position.dtype)
    own = owners(windows)
    sel = own >= 0
    out[own[sel]] = per_position[sel]
    return out


def frame_gaps(frame: pd.DataFrame, temporal: bool) -> np.ndarray:
    """Seconds since each flow's host's previous flow; zeros without real time order."""
    if not temporal:
        return np.zeros(len(frame))
    return host_gaps(*host_time_keys(frame))


def host_gaps(hosts: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Seconds since the same host's previous flow (0 for a host's first flow)."""
    n = len(hosts)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((np.arange(n), times, hosts))
    sh, st = hosts[order], times[order]
    gap = np.r_[0.0, np.diff(st)]
    gap[np.r_[True, sh[1:] != sh[:-1]]] = 0.0
    out = np.empty(n)
    out[order] = np.maximum(gap, 0.0)
    return out


def pair_gaps(
    hosts: np.ndarray, peers: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per flow, seconds since the same host's previous flow to the same peer, and that
    previous flow's own such gap (``NaN`` where there is no earlier flow to compare with).

    A beacon to one server every few seconds shows as a run of short, similar gaps however
    much other traffic the host interleaves; :func:`host_gaps` only sees the interleaving.
    """
    n = len(hosts)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((np.arange(n), times, peers, hosts))
    sh, sp, st = hosts[order], peers[order], times[order]
    first = np.r_[True, (sh[1:] != sh[:-1]) | (sp[1:] != sp[:-1])]
    gap = np.r_[np.nan, np.maximum(np.diff(st), 0.0)]
    gap[first] = np.nan
    prev = np.r_[np.nan, gap[:-1]]
    prev[first] = np.nan
    out_gap, out_prev = np.empty(n), np.empty(n)
    out_gap[order], out_prev[order] = gap, prev
    return out_gap, out_prev


def frame_pair_gaps(frame: pd.DataFrame, temporal: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pair_gaps` of a canonical frame, the peer being ``dst_ip``; all ``NaN`` without
    real time order. Flows without a destination address each get a peer of their own."""
    n = len(frame)
    if not temporal or "dst_ip" not in frame.columns:
        return np.full(n, np.nan), np.full(n, np.nan)
    hosts, times = host_time_keys(frame)
    return pair_gaps(hosts, address_codes(frame["dst_ip"]), times)


def drop_flows(n_rows: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of the rows kept after dropping each independently with probability ``rate``."""
    return np.flatnonzero(rng.random(n_rows) >= rate)


#: Flows of a host's recent past the behaviour features count over (this one included).
BEHAVIOUR_WINDOW = 16


def behaviour(frame: pd.DataFrame, temporal: bool,
              window: int = BEHAVIOUR_WINDOW) -> dict[str, np.ndarray]:
    """What a host did over its last ``window`` flows (this one included), per flow.

    - ``port_changes``: flows whose destination port differs from the host's flow before;
    - ``host_changes``: the same for the destination address;
    - ``failed``: connection attempts that never became a conversation (TCP without an answer
      or refused with a reset and no data; UDP without an answer);
    - ``repeats``: flows to the same destination address and port as this one.

    A scan shows as many changes and failures, password guessing as many repeats of short
    sessions, a beacon as repeats spread over time: behaviour an analyst reads, where one
    flow's protocol or port says little. Without real time order every count covers the flow
    alone (1 repeat, 0 changes).
    """
    n = len(frame)
    if n == 0:
        return {k: np.zeros(0) for k in ("port_changes", "host_changes", "failed", "repeats")}

    def col(name: str, fill: float = 0.0) -> np.ndarray:
        if name not in frame.columns:
            return np.full(n, fill)
        return np.asarray(pd.to_numeric(frame[name], errors="coerce").fillna(fill),
                          dtype=np.float64)

    proto, d2s = col("protocol", -1), col("dst2src_packets")
    refused = (col("dst2src_rst_packets") > 0) & (
        col("src2dst_bytes") + col("dst2src_bytes") <= 80.0 * col("bidirectional_packets"))
    failed = (((proto == 6) & (col("src2dst_syn_packets") > 0) & ((d2s == 0) | refused))
              | ((proto == 17) & (d2s == 0))).astype(np.float64)
    ports = address_codes(frame["dst_port"].astype("string")) if "dst_port" in frame.columns \
        else np.arange(n)
    peers = address_codes(frame["dst_ip"]) if "dst_ip" in frame.columns else np.arange(n)
    if not temporal:
        zeros = np.zeros(n)
        return {"port_changes": zeros, "host_changes": zeros.copy(), "failed": failed,
                "repeats": np.ones(n)}
    hosts, times = host_time_keys(frame)
    order = np.lexsort((np.arange(n), times, hosts))
    sh = hosts[order]
    start = np.r_[True, sh[1:] != sh[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))  # group start per row
    lo = np.maximum(np.arange(n) - window + 1, first)  # the window's first row, in host order

    def rolling(values: np.ndarray) -> np.ndarray:
        c = np.r_[0.0, np.cumsum(values)]
        return np.asarray(c[np.arange(n) + 1] - c[lo], dtype=np.float64)

    sp, sd = ports[order], peers[order]
    port_change = np.r_[False, sp[1:] != sp[:-1]] & ~start
    host_change = np.r_[False, sd[1:] != sd[:-1]] & ~start
    # port changes counted within the window: a change at the window's first row looks back out
    pc = rolling(port_change.astype(np.float64)) - port_change[lo]
    hc = rolling(host_change.astype(np.float64)) - host_change[lo]
    # repeats: rows of the window with this row's (destination, port)
    pos = np.arange(n)
    key = pd.factorize(pd.MultiIndex.from_arrays([sh, sd, sp]))[0]
    korder = np.lexsort((pos, key))
    kk, kp = key[korder], pos[korder]
    span = int(kp.max(initial=0)) + 1
    comp = kk.astype(np.int64) * span + kp
    low = np.searchsorted(comp, kk.astype(np.int64) * span + lo[kp], side="left")
    reps = np.empty(n)
    reps[korder] = np.arange(n) - low + 1
    out = {"port_changes": pc, "host_changes": hc, "failed": rolling(failed[order]),
           "repeats": reps}
    result = {}
    for name, values in out.items():
        back = np.empty(n)
        back[order] = values
        result[name] = back
    return result
