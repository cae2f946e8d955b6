"""The printable fast paths of the text cleaners give exactly what their regular expressions give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wardwatch.dissect._wire import text as module
from wardwatch.dissect._wire.text import collapse, collapse_keep_runs

# Characters the cleaners treat specially, mixed with ordinary and non-ASCII text.
_SPECIAL = st.sampled_from(["\t", "\n", "\r", "\r\n", " ", "  ", "\x00", "\x1f", "\x7f", "\x85", "\x9f",
                            "\xa0", "\u2028", "\u3000", "\ufffd", "é", "a"])
mixed = st.lists(_SPECIAL | st.text(max_size=8), max_size=40).map("".join)
#: Printable text only (the fast paths), with runs of spaces and non-ASCII blanks at the ends.
printable = st.text(alphabet=" a.é\ufffd", max_size=30)
texts = mixed | printable


def _collapse_by_regex(text: str) -> str:
    """What :func:`collapse` computed before its fast path (the slow path alone)."""
    return module._SPACE.sub(" ", module._CONTROL_BUT_SPACE.sub("", text.replace("\r\n", " "))).strip()


def _keep_runs_by_regex(text: str) -> str:
    """What :func:`collapse_keep_runs` computed before its fast path."""
    spaced = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return module._CONTROL_BUT_SPACE.sub("", spaced).strip()


@settings(max_examples=500, deadline=None)
@given(text=texts)
def test_collapse_equals_the_regex_path(text: str) -> None:
    assert collapse(text) == _collapse_by_regex(text)
    raw = text.encode("utf-8", errors="surrogatepass")
    assert collapse(raw) == _collapse_by_regex(raw.decode("utf-8", errors="replace"))


@settings(max_examples=500, deadline=None)
@given(text=texts)
def test_keep_runs_equals_the_regex_path(text: str) -> None:
    raw = text.encode("utf-8", errors="surrogatepass")
    assert collapse_keep_runs(raw) == _keep_runs_by_regex(raw.decode("utf-8", errors="replace"))


@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes(raw: bytes) -> None:
    decoded = raw.decode("utf-8", errors="replace")
    assert collapse(raw) == _collapse_by_regex(decoded)
    assert collapse_keep_runs(raw) == _keep_runs_by_regex(decoded)


def test_examples() -> None:
    assert collapse(b" CT  Image\r\nStorage\x00 ") == "CT Image Storage"
    assert collapse("plain text") == "plain text"
    assert collapse_keep_runs(b" Apache  2.4\t(Unix)\x7f ") == "Apache  2.4 (Unix)"
    assert collapse_keep_runs(b"nginx/1.25") == "nginx/1.25"


class _Text(str):
    """A str subclass (collapse slices it like any str)."""


@given(tail=st.sampled_from(["", " ", "  x", "\t", "é", "\x00"]), size=st.sampled_from([0, 1, 2]))
def test_inputs_around_max_raw(tail: str, size: int) -> None:
    """Every input type and length around MAX_RAW (the no-copy path takes short str and bytes only)."""
    text = "a" * (module.MAX_RAW - 3 + size) + tail
    raw = text.encode()
    expected = _collapse_by_regex(raw[: module.MAX_RAW].decode("utf-8", errors="replace"))
    for given_raw in (raw, bytearray(raw), memoryview(raw)):
        assert collapse(given_raw) == expected
    assert collapse(text) == collapse(_Text(text)) == _collapse_by_regex(text[: module.MAX_RAW])
    keep = _keep_runs_by_regex(raw[: module.MAX_RAW].decode("utf-8", errors="replace"))
    for given_raw in (raw, bytearray(raw), memoryview(raw)):
        assert collapse_keep_runs(given_raw) == keep
