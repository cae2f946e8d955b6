"""Real DICOM peers on loopback, captured: pynetdicom SCU/SCP and dcmtk (storescu, storescp, echoscu,
findscu, wlmscpfs).

Each ``capture_*`` function runs one scenario while :func:`tests.peers.capture.capture` records it and
returns a :class:`PeerCapture` (pcap path, server port, AE titles used). Reused by end-to-end tests.
The patient fields written into the test objects are deliberately distinctive (:data:`PHI`), so a test
can assert that none of them ever comes out of wardwatch.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from tests.peers.capture import capture, free_port

#: Distinctive patient data put into every object these peers send (never to appear in our output).
PHI = {
    "name": "Quixotebottom^Dulcinea",
    "mrn": "MRN-48151623",
    "birth_date": "19420613",
}
CLIENT_TIMEOUT = 30
# SOP class UIDs (PS3.4; pynetdicom.sop_class builds these names at run time, out of mypy's sight).
Verification = "1.2.840.10008.1.1"
ModalityWorklistInformationFind = "1.2.840.10008.5.1.4.31"
ModalityPerformedProcedureStep = "1.2.840.10008.3.1.2.3.3"
#: Servers listen on a second loopback address so that the two ends have different IPs in the capture
#: (clients connect from 127.0.0.1, the route's preferred source).
SERVER_IP = "127.0.0.2"
CLIENT_IP = "127.0.0.1"


@dataclass(frozen=True)
class PeerCapture:
    """A capture of one scenario: where the pcap is, which server port, which AE titles."""

    pcap: Path
    port: int
    calling_ae: str
    called_ae: str


def testdata(name: str) -> Path:
    """A file from pydicom's test data (``CT_small.dcm``, ``MR_small.dcm``)."""
    path = get_testdata_file(name)
    if path is None:
        raise FileNotFoundError(name)
    return Path(str(path))


def with_phi(source: Path, dest: Path) -> Path:
    """Copy a DICOM file with the patient module replaced by :data:`PHI`."""
    ds = dcmread(source)
    ds.PatientName = PHI["name"]
    ds.PatientID = PHI["mrn"]
    ds.PatientBirthDate = PHI["birth_date"]
    ds.save_as(dest)
    return dest


def wait_port(port: int, timeout: float = 15.0) -> None:
    """Wait until something accepts TCP connections on SERVER_IP:``port`` (before capturing)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((SERVER_IP, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            threading.Event().wait(0.02)  # retry the connection condition


@contextmanager
def _process(cmd: Sequence[str], port: int, cwd: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def capture_pynetdicom_store(
    tmp: Path,
    files: Sequence[Path],
    *,
    calling_ae: str = "CT_SCANNER",
    called_ae: str = "PACS_ARCHIVE",
    echo: bool = True,
) -> PeerCapture:
    """pynetdicom SCU → pynetdicom storage SCP: C-ECHO then one C-STORE per file, then release."""
    from pynetdicom import AE, evt

    datasets = [dcmread(f) for f in files]
    port = free_port()
    scp = AE(ae_title=called_ae)
    scp.add_supported_context(Verification)
    for ds in datasets:
        scp.add_supported_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    server = scp.start_server((SERVER_IP, port), block=False,
                              evt_handlers=[(evt.EVT_C_STORE, lambda event: 0x0000)])
    assert server is not None
    try:
        scu = AE(ae_title=calling_ae)
        scu.acse_timeout = scu.dimse_timeout = scu.network_timeout = CLIENT_TIMEOUT
        scu.add_requested_context(Verification)
        for ds in datasets:
            scu.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        pcap = tmp / "pynetdicom-store.pcap"
        with capture(pcap, f"tcp port {port}"):
            assoc = scu.associate(SERVER_IP, port, ae_title=called_ae)
            if not assoc.is_established:
                raise RuntimeError("pynetdicom association was not established")
            if echo:
                assoc.send_c_echo()
            for ds in datasets:
                status = assoc.send_c_store(ds)
                if status.Status != 0:
                    raise RuntimeError(f"C-STORE failed: 0x{status.Status:04x}")
            assoc.release()
    finally:
        server.shutdown()
    return PeerCapture(pcap, port, calling_ae, called_ae)


def capture_pynetdicom_worklist_mpps(
    tmp: Path, *, calling_ae: str = "US_CART", called_ae: str = "RIS_MWL"
) -> PeerCapture:
    """pynetdicom worklist SCU (C-FIND MWL) then MPPS N-CREATE, against a pynetdicom SCP that answers
    with one scheduled item carrying :data:`PHI`."""
    from pynetdicom import AE, evt

    def on_find(event: object) -> Iterator[tuple[int, Dataset | None]]:
        item = Dataset()
        item.PatientName = PHI["name"]
        item.PatientID = PHI["mrn"]
        item.PatientBirthDate = PHI["birth_date"]
        yield 0xFF00, item

    def on_create(event: object) -> tuple[int, Dataset]:
        return 0x0000, Dataset()

    port = free_port()
    scp = AE(ae_title=called_ae)
    scp.add_supported_context(ModalityWorklistInformationFind)
    scp.add_supported_context(ModalityPerformedProcedureStep)
    server = scp.start_server((SERVER_IP, port), block=False,
                              evt_handlers=[(evt.EVT_C_FIND, on_find), (evt.EVT_N_CREATE, on_create)])
    assert server is not None
    try:
        scu = AE(ae_title=calling_ae)
        scu.acse_timeout = scu.dimse_timeout = scu.network_timeout = CLIENT_TIMEOUT
        scu.add_requested_context(ModalityWorklistInformationFind)
        scu.add_requested_context(ModalityPerformedProcedureStep)
        query = Dataset()
        query.PatientName = "*"
        query.PatientID = ""
        pcap = tmp / "pynetdicom-mwl.pcap"
        with capture(pcap, f"tcp port {port}"):
            assoc = scu.associate(SERVER_IP, port, ae_title=called_ae)
            if not assoc.is_established:
                raise RuntimeError("pynetdicom association was not established")
            for _status, _identifier in assoc.send_c_find(query, ModalityWorklistInformationFind):
                pass
            mpps = Dataset()
            mpps.PatientName = PHI["name"]
            mpps.PatientID = PHI["mrn"]
            mpps.PerformedProcedureStepStatus = "IN PROGRESS"
            assoc.send_n_create(mpps, ModalityPerformedProcedureStep, "1.2.826.0.1.3680043.2.1143.1")
            assoc.release()
    finally:
        server.shutdown()
    return PeerCapture(pcap, port, calling_ae, called_ae)


def dcmtk(tool: str) -> str:
    """Path of a dcmtk tool; raises when dcmtk is not installed."""
    path = shutil.which(tool)
    if path is None:
        raise FileNotFoundError(f"dcmtk {tool} is not installed (Debian package dcmtk)")
    return path


def capture_dcmtk_store(
    tmp: Path, files: Sequence[Path], *, calling_ae: str = "MR_MAGNET", called_ae: str = "ARCHIVE",
    echo: bool = True,
) -> PeerCapture:
    """dcmtk ``storescu`` (and ``echoscu``) → ``storescp`` writing into ``tmp/received``."""
    port = free_port()
    received = tmp / "received"
    received.mkdir(exist_ok=True)
    pcap = tmp / "dcmtk-store.pcap"
    scp = [dcmtk("storescp"), "-aet", called_ae, "-od", str(received), "--fork", str(port)]
    with _process(scp, port), capture(pcap, f"tcp port {port}"):
        if echo:
            subprocess.run([dcmtk("echoscu"), "-aet", calling_ae, "-aec", called_ae, SERVER_IP, str(port)],
                           check=True, timeout=CLIENT_TIMEOUT, capture_output=True)
        subprocess.run([dcmtk("storescu"), "-aet", calling_ae, "-aec", called_ae, SERVER_IP, str(port),
                        *map(str, files)], check=True, timeout=CLIENT_TIMEOUT, capture_output=True)
    return PeerCapture(pcap, port, calling_ae, called_ae)


_WORKLIST_DUMP = """\
(0008,0005) CS [ISO_IR 100]
(0008,0050) SH [ACC0001]
(0010,0010) PN [{name}]
(0010,0020) LO [{mrn}]
(0010,0030) DA [{birth_date}]
(0010,0040) CS [F]
(0020,000d) UI [1.2.826.0.1.3680043.2.1143.777]
(0032,1060) LO [CT HEAD]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [CT]
(0040,0001) AE [{station}]
(0040,0002) DA [20261128]
(0040,0003) TM [120000]
(0040,0009) SH [SPS0001]
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH [RP0001]
"""


def capture_dcmtk_worklist(
    tmp: Path, *, calling_ae: str = "CT_SCANNER", called_ae: str = "WORKLIST"
) -> PeerCapture:
    """dcmtk ``findscu -W`` (Modality Worklist) against ``wlmscpfs`` serving one item with :data:`PHI`."""
    store = tmp / "worklists"
    (store / called_ae).mkdir(parents=True, exist_ok=True)
    (store / called_ae / "lockfile").write_bytes(b"")
    dump = tmp / "item.dump"
    dump.write_text(_WORKLIST_DUMP.format(station=calling_ae, **PHI), encoding="ascii")
    subprocess.run([dcmtk("dump2dcm"), str(dump), str(store / called_ae / "item.wl")], check=True,
                   timeout=CLIENT_TIMEOUT, capture_output=True)
    port = free_port()
    pcap = tmp / "dcmtk-worklist.pcap"
    scp = [dcmtk("wlmscpfs"), "-dfp", str(store), "--disable-file-reject", "--fork", str(port)]
    with _process(scp, port), capture(pcap, f"tcp port {port}"):
        subprocess.run([dcmtk("findscu"), "-W", "-aet", calling_ae, "-aec", called_ae,
                        "-k", "PatientName", "-k", "PatientID", "-k", "PatientBirthDate",
                        "-k", "ScheduledProcedureStepSequence[0].Modality=CT",
                        SERVER_IP, str(port)], check=True, timeout=CLIENT_TIMEOUT, capture_output=True)
    return PeerCapture(pcap, port, calling_ae, called_ae)


def capture_pynetdicom_reject_abort(
    tmp: Path, *, calling_ae: str = "VIEWER", called_ae: str = "PACS_ARCHIVE"
) -> PeerCapture:
    """Two associations to a pynetdicom SCP that requires its own AE title: one asks for a wrong
    called AE (A-ASSOCIATE-RJ, called-AE-title-not-recognized), one is aborted by the SCU (A-ABORT)."""
    from pynetdicom import AE

    port = free_port()
    scp = AE(ae_title=called_ae)
    scp.require_called_aet = True
    scp.add_supported_context(Verification)
    server = scp.start_server((SERVER_IP, port), block=False)
    assert server is not None
    try:
        scu = AE(ae_title=calling_ae)
        scu.acse_timeout = scu.dimse_timeout = scu.network_timeout = CLIENT_TIMEOUT
        scu.add_requested_context(Verification)
        pcap = tmp / "pynetdicom-reject.pcap"
        with capture(pcap, f"tcp port {port}"):
            rejected = scu.associate(SERVER_IP, port, ae_title="NOT_THE_PACS")
            if not rejected.is_rejected:
                raise RuntimeError("the association was expected to be rejected")
            assoc = scu.associate(SERVER_IP, port, ae_title=called_ae)
            if not assoc.is_established:
                raise RuntimeError("pynetdicom association was not established")
            assoc.abort()
    finally:
        server.shutdown()
    return PeerCapture(pcap, port, calling_ae, called_ae)
