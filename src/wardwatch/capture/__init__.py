"""Packets in: pcap/pcapng reading, vectorized header decoding, the flow table and payload budgets."""

from wardwatch.capture.config import CaptureConfig, CaptureStats
from wardwatch.capture.engine import CaptureResult, process_capture
from wardwatch.capture.flows import FlowTable
from wardwatch.capture.sink import CollectingSink, NullSink, PayloadSink

__all__ = [
    "CaptureConfig",
    "CaptureResult",
    "CaptureStats",
    "CollectingSink",
    "FlowTable",
    "NullSink",
    "PayloadSink",
    "process_capture",
]
