"""A buffered writer of classic pcap and pcapng files, for synthetic captures."""

from __future__ import annotations

import heapq
import random
import struct
from typing import BinaryIO

_PCAP_REC = struct.Struct("<IIII")
_EPB_HEAD = struct.Struct("<IIIIIII")
_U32 = struct.Struct("<I")

#: Buffered bytes that trigger a write to the file.
_FLUSH_AT = 1 << 22


class CaptureWriter:
    """Buffered writer for classic pcap (microsecond, little-endian) or pcapng files.

    Parameters
    ----------
    fh
        A binary file object.
    fmt
        ``"pcap"`` or ``"pcapng"``.
    linktype
        The link type written in the file header (pcap) or the Interface Description Block.
    snaplen
        The snapshot length declared in the header.

    Attributes
    ----------
    packets
        Packet records written so far.
    bytes
        File bytes written so far (headers included, buffered or not).
    """

    def __init__(
        self, fh: BinaryIO, fmt: str = "pcap", linktype: int = 1, snaplen: int = 262144
    ) -> None:
        if fmt not in ("pcap", "pcapng"):
            raise ValueError(f"unknown capture format {fmt!r}")
        self.fh = fh
        self.fmt = fmt
        self.packets = 0
        self.bytes = 0
        self._parts: list[bytes] = []
        self._pending = 0
        if fmt == "pcap":
            header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
        else:
            shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
            shb = struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body
            shb += _U32.pack(12 + len(shb_body))
            idb_body = struct.pack("<HHI", linktype, 0, snaplen)
            idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body
            idb += _U32.pack(12 + len(idb_body))
            header = shb + idb
        self._emit(header)

    def _emit(self, data: bytes) -> None:
        self._parts.append(data)
        self._pending += len(data)
        self.bytes += len(data)
        if self._pending >= _FLUSH_AT:
            self.flush()

    def write(self, ts_us: int, frame: bytes, orig_len: int | None = None) -> None:
        """Append one packet record with timestamp ``ts_us`` (microseconds since the epoch)."""
        orig = len(frame) if orig_len is None else orig_len
        if self.fmt == "pcap":
            rec = _PCAP_REC.pack(ts_us // 1_000_000, ts_us % 1_000_000, len(frame), orig)
            self._parts.append(rec)
            self._parts.append(frame)
            size = 16 + len(frame)
        else:
            pad = (-len(frame)) % 4
            total = 32 + len(frame) + pad
            self._parts.append(
                _EPB_HEAD.pack(6, total, 0, ts_us >> 32, ts_us & 0xFFFFFFFF, len(frame), orig)
            )
            self._parts.append(frame + b"\0" * pad + _U32.pack(total))
            size = total
        self.packets += 1
        self.bytes += size
        self._pending += size
        if self._pending >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Write buffered records to the file."""
        if self._parts:
            self.fh.write(b"".join(self._parts))
            self._parts.clear()
            self._pending = 0


class TimeOrdered:
    """Packets made out of order (interleaved conversations), written in time order.

    A heap of ``(timestamp, sequence, frame)``: :meth:`push` queues a frame, :meth:`flush_until`
    writes every queued frame due before a time, so memory holds only the conversations still
    in progress. Frames with equal timestamps keep the order they were pushed in. The base of
    the large synthetic captures' generators, which also share :meth:`payload` (slices of one
    random pool drawn from ``rng`` when the queue is made).
    """

    def __init__(self, writer: CaptureWriter, rng: random.Random) -> None:
        self.writer = writer
        self.rng = rng
        self.heap: list[tuple[int, int, bytes]] = []
        self.seq = 0
        self.pool = rng.randbytes(1 << 16)

    def push(self, ts: int, frame: bytes) -> None:
        """Queue ``frame`` at ``ts`` (microseconds since the epoch)."""
        self.seq += 1
        heapq.heappush(self.heap, (ts, self.seq, frame))

    def flush_until(self, ts: int | None) -> None:
        """Write every queued packet with a timestamp before ``ts`` (all when ``None``)."""
        heap, write, pop = self.heap, self.writer.write, heapq.heappop
        while heap and (ts is None or heap[0][0] < ts):
            t, _, frame = pop(heap)
            write(t, frame)

    def payload(self, size: int) -> bytes:
        """``size`` bytes of the random pool, from a random offset."""
        off = self.rng.randrange(0, len(self.pool) - size)
        return self.pool[off : off + size]
