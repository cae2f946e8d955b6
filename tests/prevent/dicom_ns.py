"""DICOM peers and a bare TCP probe, run as ``python -m tests.prevent.dicom_ns ...`` inside a namespace.

* ``scp IP PORT AE``: a pynetdicom storage SCP; prints ``ready`` once listening, runs until killed.
* ``scu IP PORT CALLING CALLED``: C-ECHO then C-STORE of pydicom's CT_small.dcm; exit 0 on success.
* ``connect IP PORT TIMEOUT``: one TCP connect; exit 0 connected, 3 refused, 4 timed out, 5 other.
"""

from __future__ import annotations

import socket
import sys
import threading


def scp(ip: str, port: int, ae_title: str) -> int:
    """Serve until killed."""
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import CTImageStorage, Verification  # type: ignore[attr-defined]

    ae = AE(ae_title=ae_title)
    ae.add_supported_context(Verification)
    ae.add_supported_context(CTImageStorage)
    server = ae.start_server((ip, port), block=False, evt_handlers=[(evt.EVT_C_STORE, lambda event: 0x0000)])
    print("ready", flush=True)
    threading.Event().wait()
    server.shutdown()
    return 0


def scu(ip: str, port: int, calling: str, called: str) -> int:
    """Echo and store once."""
    from pydicom import dcmread
    from pydicom.data import get_testdata_file
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage, Verification  # type: ignore[attr-defined]

    ds = dcmread(str(get_testdata_file("CT_small.dcm")))
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    ae.add_requested_context(Verification)
    ae.add_requested_context(CTImageStorage, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate(ip, port, ae_title=called)
    if not assoc.is_established:
        return 1
    try:
        if assoc.send_c_echo().Status != 0 or assoc.send_c_store(ds).Status != 0:
            return 2
    finally:
        assoc.release()
    return 0


def connect(ip: str, port: int, timeout: float) -> int:
    """One bounded TCP connect."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return 0
    except ConnectionRefusedError:
        return 3
    except TimeoutError:
        return 4
    except OSError:
        return 5


def send_udp(ip: str, port: int, payload: str) -> int:
    """One UDP datagram (the capture sentinel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(payload.encode(), (ip, port))
    return 0


def main(argv: list[str]) -> int:
    """Dispatch."""
    command, args = argv[0], argv[1:]
    if command == "scp":
        return scp(args[0], int(args[1]), args[2])
    if command == "scu":
        return scu(args[0], int(args[1]), args[2], args[3])
    if command == "connect":
        return connect(args[0], int(args[1]), float(args[2]))
    if command == "udp":
        return send_udp(args[0], int(args[1]), args[2])
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
