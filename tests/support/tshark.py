"""tshark as the differential oracle: field values per packet for a capture."""

from __future__ import annotations

import subprocess
from pathlib import Path


def fields(tshark: str, capture: Path, display_filter: str, *names: str, decode_as: str = "") -> list[list[str]]:
    """Rows of ``tshark -T fields`` for ``names`` on the packets matching ``display_filter``.

    Each row has one string per field; a field with several occurrences is comma-separated by
    tshark (``-E occurrence=a``), and we split it with ``-E aggregator=|`` to keep commas in values.
    ``decode_as`` is a tshark ``-d`` rule (``tcp.port==11112,dicom``) for peers on unusual ports.
    """
    cmd = [tshark, "-n", "-r", str(capture), "-Y", display_filter, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "quote=n"]
    if decode_as:
        cmd += ["-d", decode_as]
    for name in names:
        cmd += ["-e", name]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def values(tshark: str, capture: Path, display_filter: str, name: str, decode_as: str = "") -> set[str]:
    """The set of non-empty values of one field over all matching packets."""
    found: set[str] = set()
    for row in fields(tshark, capture, display_filter, name, decode_as=decode_as):
        for value in row[0].split("|"):
            if value:
                found.add(value)
    return found
