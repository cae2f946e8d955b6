"""tshark as the differential oracle: field values per packet, or a layer's full JSON tree, for a capture."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


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


#: One JSON object of tshark's tree as (key, value) pairs, in order (keys repeat).
Pairs = list[tuple[str, Any]]


def tshark_tree(tshark: str, capture: Path, display_filter: str, protocol: str) -> list[tuple[int, Pairs]]:
    """(frame number, ``protocol`` layer) of each matching packet from ``tshark -T json``.

    JSON objects are kept as lists of (key, value) pairs because tshark repeats keys (two records
    with the same summary line, several ``dns.txt`` strings).
    """
    cmd = [tshark, "-n", "-r", str(capture), "-Y", display_filter, "-T", "json", "-J", f"frame {protocol}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    packets = json.loads(out or "[]", object_pairs_hook=list)
    result: list[tuple[int, Pairs]] = []
    for packet in packets:
        layers = dict(dict(packet)["_source"])["layers"]
        layer_dict = dict(layers)
        frame = int(dict(layer_dict["frame"])["frame.number"])
        result.append((frame, layer_dict.get(protocol, [])))
    return result


def pairs_get(pairs: Pairs, key: str) -> list[Any]:
    """Every value stored under ``key`` in one object."""
    return [v for k, v in pairs if k == key]
