"""Bounded TCP stream reassembly for one flow direction (RFC 9293 §3.4 sequence space).

Only the first ``budget`` bytes of a direction are kept. Segments are placed by their offset from the
initial sequence number (ISN + 1 when the SYN was seen, else the first sequence number seen); overlaps
and retransmissions are de-duplicated (first copy wins, as most stacks do for overlapping data);
out-of-order segments wait in a bounded buffer until the gap before them closes. A gap that never
closes ends the usable prefix.
"""

from __future__ import annotations

#: Out-of-order segments kept per direction while waiting for a gap to close.
MAX_PENDING = 64


class DirectionBuffer:
    """The in-order prefix of one direction, cut at ``budget`` bytes."""

    __slots__ = ("budget", "data", "gap", "pending", "pending_bytes")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.data = bytearray()
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.gap = False

    @property
    def full(self) -> bool:
        """True once the prefix holds the whole budget."""
        return len(self.data) >= self.budget

    @property
    def truncated(self) -> bool:
        """True when the budget cut the stream or a gap ended the prefix."""
        return self.full or self.gap or bool(self.pending)

    def add(self, rel: int, payload: bytes) -> None:
        """Place ``payload`` starting ``rel`` bytes after the stream start (``rel`` may be negative)."""
        have = len(self.data)
        if have >= self.budget:
            return
        if rel < 0:  # starts before the stream origin: keep the part at or after it
            payload = payload[-rel:]
            rel = 0
        end = min(rel + len(payload), self.budget)
        if end <= have:
            return  # pure retransmission
        if rel > have:
            if len(self.pending) < MAX_PENDING and self.pending_bytes + len(payload) <= self.budget:
                old = self.pending.get(rel)
                if old is None or len(old) < len(payload):
                    self.pending_bytes += len(payload) - (len(old) if old else 0)
                    self.pending[rel] = payload[: end - rel]
            else:
                self.gap = True
            return
        self.data += payload[have - rel : end - rel]
        if self.pending:
            self._drain()

    def _drain(self) -> None:
        progressed = True
        while progressed and self.pending and len(self.data) < self.budget:
            progressed = False
            have = len(self.data)
            for rel in sorted(self.pending):
                if rel > have:
                    break
                chunk = self.pending.pop(rel)
                self.pending_bytes -= len(chunk)
                end = min(rel + len(chunk), self.budget)
                if end > have:
                    self.data += chunk[have - rel : end - rel]
                    have = len(self.data)
                progressed = True
        if len(self.data) >= self.budget:
            self.pending.clear()
            self.pending_bytes = 0

    def result(self) -> bytes:
        """The usable in-order prefix."""
        return bytes(self.data)


class StreamBuffers:
    """Both directions of one TCP flow: index 0 = originator (client), 1 = responder (server)."""

    __slots__ = ("dirs",)

    def __init__(self, budget: int) -> None:
        self.dirs = (DirectionBuffer(budget), DirectionBuffer(budget))
