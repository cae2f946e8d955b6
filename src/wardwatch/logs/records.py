"""Reading Zeek and Suricata logs as records: Zeek TSV (with its header), NDJSON and pretty-printed JSON.

Zeek TSV (Zeek "ASCII writer"): ``#separator``, ``#set_separator``, ``#empty_field``, ``#unset_field``,
``#path``, ``#fields`` and ``#types`` header lines; a file may hold several header blocks (the header can
change mid-file), btest baselines start with a ``### BTest`` banner and mask timestamps as
``XXXXXXXXXX.XXXXXX``. JSON logs are one object per line (NDJSON) or, from some sensors, objects
pretty-printed over several lines. Malformed records are counted and skipped, never fatal.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

MAX_LINE = 1 << 20  # a record longer than 1 MiB is skipped
MASKED_TS = "XXXXXXXXXX.XXXXXX"


@dataclass
class ReadStats:
    """What a reader kept and skipped."""

    records: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count one skipped record."""
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def parse_ts(value: Any) -> float:
    """A Zeek/Suricata time (epoch float, ISO 8601 string, masked) as epoch seconds (0.0 when unknown)."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value or value == MASKED_TS or value.startswith("X"):
        return 0.0
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # Suricata: +0000 → +00:00
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = dt.datetime.fromisoformat(text[:26] + text[29:] if "." in text and len(text) > 32 else text)
    except ValueError:
        return 0.0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _decode_separator(text: str) -> str:
    return text.encode("ascii", "replace").decode("unicode_escape") if "\\x" in text else text


def zeek_tsv_records(
    lines: Iterable[str], stats: ReadStats, default_path: str = ""
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, record) pairs of a Zeek TSV stream; set/vector fields become lists, unset fields vanish."""
    sep, set_sep, empty, unset = "\t", ",", "(empty)", "-"
    path, names, types = default_path, [], []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line or line.startswith("### "):
            continue
        if line.startswith("#"):
            key, _, rest = line[1:].partition(sep if not line.startswith("#separator") else " ")
            if key == "separator":
                sep = _decode_separator(rest.strip())
            elif key == "set_separator":
                set_sep = rest
            elif key == "empty_field":
                empty = rest
            elif key == "unset_field":
                unset = rest
            elif key == "path":
                path = rest
            elif key == "fields":
                names = rest.split(sep)
            elif key == "types":
                types = rest.split(sep)
            continue
        if len(line) > MAX_LINE:
            stats.skip("record too long")
            continue
        values = line.split(sep)
        if not names or len(values) != len(names):
            stats.skip("field count does not match the #fields header")
            continue
        record: dict[str, Any] = {}
        for i, (name, value) in enumerate(zip(names, values, strict=True)):
            if value == unset:
                continue
            kind = types[i] if i < len(types) else "string"
            if kind.startswith(("set[", "vector[")):
                record[name] = [] if value == empty else value.split(set_sep)
            else:
                record[name] = "" if value == empty else value
        stats.records += 1
        yield path, record


def json_records(handle: TextIO, stats: ReadStats) -> Iterator[dict[str, Any]]:
    """Objects of an NDJSON stream, or of JSON objects pretty-printed over several lines.

    A top-level object starts with ``{`` in the first column (NDJSON lines and pretty-printed objects
    alike); an unfinished object followed by such a line is broken and is skipped.
    """
    decoder = json.JSONDecoder()
    buffer = ""
    for line in handle:
        if not buffer and not line.strip():
            continue
        if buffer and line.startswith(("{", "[")):
            stats.skip("not JSON")
            buffer = ""
        if len(buffer) + len(line) > MAX_LINE:
            stats.skip("record too long")
            buffer = ""
            continue
        buffer += line
        while buffer.strip():
            text = buffer.strip()
            try:
                obj, end = decoder.raw_decode(text)
            except json.JSONDecodeError:
                if not text.startswith(("{", "[")):
                    stats.skip("not JSON")
                    buffer = ""
                break  # an object spread over several lines: read on
            buffer = text[end:].lstrip()
            if isinstance(obj, dict):
                stats.records += 1
                yield obj
            else:
                stats.skip("JSON value is not an object")
    if buffer.strip():
        stats.skip("truncated JSON at end of file")


def sniff_format(path: Path) -> str:
    """``zeek-tsv`` or ``json`` by the file's first non-blank character."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            stripped = line.strip()
            if stripped:
                return "json" if stripped.startswith(("{", "[")) else "zeek-tsv"
    return "zeek-tsv"


def zeek_path_from_name(path: Path) -> str:
    """The Zeek log path (``dhcp``, ``conn`` …) implied by a file name such as ``x__dhcp.log``."""
    stem = path.name.split("__")[-1]
    for suffix in (".gz", ".json", ".log"):
        stem = stem.removesuffix(suffix)
    return stem.split(".")[0].rstrip("0123456789-_")
