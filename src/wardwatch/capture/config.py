"""Settings and counters of a capture run."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CaptureConfig:
    """Budgets, timeouts and batch sizes of the capture engine (all per flow direction where it says so)."""

    #: TCP bytes per direction handed to stream dissectors.
    tcp_budget: int = 16384
    #: UDP payload bytes per direction handed to datagram dissectors ...
    udp_budget: int = 65536
    #: ... and at most this many datagrams per direction.
    udp_max_datagrams: int = 64
    #: Non-IP frame bytes per L2 flow, and at most this many frames.
    frame_budget: int = 16384
    frame_max: int = 16
    #: Idle timeouts in seconds: a gap longer than this starts a new flow; idle flows are evicted.
    tcp_timeout: float = 3600.0
    udp_timeout: float = 120.0
    other_timeout: float = 120.0
    #: A TCP flow ended by FIN/RST is evicted after this many idle seconds.
    closed_timeout: float = 30.0
    #: At most this many flows are held; the least recently seen are evicted beyond it.
    max_flows: int = 1_000_000
    #: Bytes of capture file indexed per batch.
    chunk_bytes: int = 32 << 20


@dataclass
class CaptureStats:
    """What a run saw and what it had to skip."""

    packets: int = 0
    bytes: int = 0
    skipped_records: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    non_ip: int = 0
    fragments: int = 0
    unsupported_link_types: int = 0
    undecoded_packets: int = 0
    truncated_file: bool = False
    flows: int = 0
    datagrams: int = 0
    streams: int = 0
    frames: int = 0

    def count(self, reason: str, n: int = 1) -> None:
        """Add ``n`` to ``reasons[reason]``."""
        if n:
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    @property
    def skipped(self) -> bool:
        """True when some input was skipped (the CLI's exit code 3)."""
        return bool(self.skipped_records or self.truncated_file or self.undecoded_packets)
