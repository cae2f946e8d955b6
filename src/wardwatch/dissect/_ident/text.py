"""Safe text and the Observation de-duplicator, as the identity dissectors use them.

The helpers live in :mod:`wardwatch.dissect._wire.text` and :mod:`wardwatch.dissect._wire.emit`; this
module names them as lldp, cdp, http, tls, smb and banner import them. Values are emitted as given (the
dissector cleans them, some verbatim for comparison with tshark) and clipped by
:meth:`FlowContext.observation` (``MAX_VALUE``).
"""

from __future__ import annotations

from wardwatch.dissect._wire.emit import Emitter
from wardwatch.dissect._wire.text import MAX_RAW, mac_text
from wardwatch.dissect._wire.text import collapse as clean
from wardwatch.dissect._wire.text import collapse_keep_runs as clean_keep_space

__all__ = ["MAX_RAW", "Emitter", "clean", "clean_keep_space", "mac_text"]
