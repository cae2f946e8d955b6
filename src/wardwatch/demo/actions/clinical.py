"""Clinical behaviour: DICOM associations, HL7 over MLLP and POCT1-A conversations."""

from __future__ import annotations

import hashlib
import time

from wardwatch.demo.actions.context import Context
from wardwatch.demo.hospital import FACILITY, HospitalDevice
from wardwatch.demo.traffic import dicom, dicom_data, hl7, infra, poct
from wardwatch.demo.traffic.patients import patient
from wardwatch.demo.wire.session import Endpoint

DICOM_PORT = 104
HL7_PORT = 2575
PUMP_HL7_PORT = 6661
POCT_PORT = 3001


def _ts(ctx: Context) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(ctx.em.now // 1_000_000))


def _iso(ctx: Context) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ctx.em.now // 1_000_000))


def _server_impl(dev: HospitalDevice) -> tuple[str, str]:
    return dev.model.dicom_impl or ("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367")


def dicom_association(ctx: Context, scu: HospitalDevice, scp: HospitalDevice, abstracts: list[str],
                      body: list[tuple[bytes, bytes]], *, calling: str | None = None) -> None:
    """An association: RQ/AC, the DIMSE exchanges in ``body``, then release (PS3.8 §7.1-7.2)."""
    calling_ae = calling or scu.ae_title or "ANY-SCU"
    called_ae = scp.ae_title or "ANY-SCP"
    impl = scu.model.dicom_impl or ("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367")
    rq, contexts = dicom.associate_rq(calling_ae, called_ae, abstracts, impl)
    ac = dicom.associate_ac(calling_ae, called_ae, contexts, _server_impl(scp))
    conv = ctx.tcp(scu, ctx.peer(scu, scp), DICOM_PORT)
    conv.open()
    conv.exchange(rq, ac)
    for request, response in body:
        conv.exchange(request, response)
    conv.exchange(dicom.release_rq(), dicom.release_rp())
    conv.close()


def store(ctx: Context, dev: HospitalDevice) -> None:
    """A modality sends one image to its PACS: C-ECHO then C-STORE (PS3.4 Annex A, B)."""
    pacs = ctx.pick(ctx.roles.pacs, dev)
    modality = dev.model.modality or "CT"
    sop = dicom.STORAGE_SOP[modality]
    p = patient(ctx.rng)
    tag = (dev.index, ctx.em.now)
    iuid = dicom_data.uid_for("sop", *tag)
    ds = dicom_data.image(modality, p, dicom_data.uid_for("study", *tag), dicom_data.uid_for("series", *tag),
                          iuid, dev.model.vendor, dev.model.model, dev.hostname, dev.firmware.version)
    echo = dicom.echo(1, 1)
    st = dicom.store(2, 3, sop, iuid, ds, dev.ae_title or "")
    dicom_association(ctx, dev, pacs, [dicom.VERIFICATION, sop], [echo, st])


def worklist(ctx: Context, dev: HospitalDevice) -> None:
    """Modality Worklist C-FIND to the RIS, proposing MWL and MPPS (IHE RAD-5)."""
    ris = ctx.pick(ctx.roles.ris, dev)
    modality = dev.model.modality or "CT"
    ae = dev.ae_title or ""
    q = dicom_data.worklist_query(modality, ae)
    matches = [dicom_data.worklist_item(modality, ae, patient(ctx.rng), f"ACC{ctx.rng.randrange(10**7):07d}")
               for _ in range(1 + ctx.rng.randrange(2))]
    dicom_association(ctx, dev, ris, [dicom.MWL_FIND, dicom.MPPS], [dicom.find(1, 1, dicom.MWL_FIND, q, matches)])


def query(ctx: Context, dev: HospitalDevice) -> None:
    """A reading workstation's Study Root C-FIND to the PACS."""
    pacs = ctx.pick(ctx.roles.pacs, dev)
    p = patient(ctx.rng)
    m = dicom_data.study_match(p.mrn, dicom_data.uid_for("study", dev.index, ctx.em.now), "CT")
    body = [dicom.echo(1, 1), dicom.find(2, 3, dicom.STUDY_ROOT_FIND, dicom_data.study_query(p.mrn), [m])]
    dicom_association(ctx, dev, pacs, [dicom.VERIFICATION, dicom.STUDY_ROOT_FIND], body)


def unknown_ae(ctx: Context, attacker: HospitalDevice, pacs: HospitalDevice) -> None:
    """An association from an AE title the PACS does not know: A-ASSOCIATE-RQ answered by RJ."""
    rq, _ = dicom.associate_rq("FINDSCU", pacs.ae_title or "ANY-SCP", [dicom.STUDY_ROOT_FIND],
                               ("1.2.276.0.7230010.3.0.3.6.4", "OFFIS_DCMTK_364"))
    conv = ctx.tcp(attacker, ctx.peer(attacker, pacs), DICOM_PORT)
    conv.open()
    conv.exchange(rq, dicom.associate_rj_calling_ae())
    conv.close(client_first=False)


def _mllp(ctx: Context, client: HospitalDevice, server: HospitalDevice, port: int, message: str,
          app: str, version: str, trigger: str) -> None:
    control = f"{ctx.rng.randrange(10**9):09d}"
    ack = hl7.ack(server.model.hl7_app or "CLOVERLEAF", FACILITY, app, _ts(ctx), f"A{control}",
                  message.split("|", 10)[9], version, trigger)
    conv = ctx.tcp(client, ctx.peer(client, server), port)
    conv.open()
    conv.exchange(hl7.mllp(message), hl7.mllp(ack))
    conv.close()


def oru(ctx: Context, dev: HospitalDevice) -> None:
    """Monitors and ventilators send vital signs to the interface engine (ORU^R01, OBX-18 device)."""
    engine = ctx.pick(ctx.roles.engines, dev)
    app = dev.model.hl7_app or dev.model.model
    loc = f"{dev.department.name.upper()}^{dev.index % 40 + 1:02d}^1"
    msg = hl7.oru_monitor(app, hl7.eui64(dev.mac), FACILITY, _ts(ctx), f"{ctx.rng.randrange(10**9):09d}",
                          patient(ctx.rng), loc, dev.model.model, dev.model.vendor,
                          (60 + ctx.rng.randrange(50), 90 + ctx.rng.randrange(10), 10 + ctx.rng.randrange(15)))
    _mllp(ctx, dev, engine, HL7_PORT, msg, app, "2.6", "R01")


#: UDP port of the bedside-to-central stream. The vendors' monitoring-network protocols are proprietary
#: and undocumented; this port and the opaque payload are stand-ins (nothing identifies a device by them).
MONITOR_STREAM_PORT = 7100


def monitor_stream(ctx: Context, dev: HospitalDevice) -> None:
    """A bedside device's round on its monitoring network: an opaque datagram exchange with its central
    station or gateway, which then exports the vitals as HL7 ORU^R01 with OBX-18 naming the device."""
    route = ctx.roles.streams(dev)
    if route is None:
        return
    collector, exporter = route
    sport = MONITOR_STREAM_PORT
    seed = (dev.index, ctx.em.now)
    ctx.em.udp(ctx.ep(dev), ctx.peer(dev, collector), sport, MONITOR_STREAM_PORT, infra.opaque(240, "vitals", seed), 0)
    back = ctx.peer(dev, collector)
    ctx.em.udp(Endpoint(back.mac, back.ip, dev.vlan, back.ttl), ctx.ep(dev), MONITOR_STREAM_PORT, sport,
               infra.opaque(32, "ack", seed), 300)
    engine = ctx.pick(ctx.roles.engines, exporter)
    app = exporter.model.hl7_app or exporter.model.model
    loc = f"{dev.department.name.upper()}^{dev.index % 40 + 1:02d}^1"
    msg = hl7.oru_monitor(app, hl7.eui64(exporter.mac), FACILITY, _ts(ctx), f"{ctx.rng.randrange(10**9):09d}",
                          patient(ctx.rng), loc, dev.model.model, dev.model.vendor,
                          (60 + ctx.rng.randrange(50), 90 + ctx.rng.randrange(10), 10 + ctx.rng.randrange(15)),
                          device_eui=hl7.eui64(dev.mac))
    _mllp(ctx, exporter, engine, HL7_PORT, msg, app, "2.6", "R01")


def pump(ctx: Context, dev: HospitalDevice) -> None:
    """Infusion pumps report to their server (IHE PCD-01 for infusion, PRT device segment)."""
    server = ctx.pick(ctx.roles.pump_servers, dev)
    app = dev.model.hl7_app or dev.model.model
    loc = f"{dev.department.name.upper()}^{dev.index % 40 + 1:02d}^1"
    gtin = int.from_bytes(hashlib.sha256(dev.model.key.encode()).digest()[:6], "big") % 10**13
    udi = f"(01)0{gtin:013d}(21){dev.serial}"
    msg = hl7.oru_pump(app, hl7.eui64(dev.mac), FACILITY, _ts(ctx), f"{ctx.rng.randrange(10**9):09d}",
                       patient(ctx.rng), loc, udi, dev.serial, dev.firmware.version,
                       ctx.rng.randrange(5, 2500) / 10)
    _mllp(ctx, dev, server, PUMP_HL7_PORT, msg, app, "2.8", "R01")


def lab_result(ctx: Context, dev: HospitalDevice) -> None:
    """A lab analyzer's result to the interface engine (ORU^R01 v2.5.1)."""
    engine = ctx.pick(ctx.roles.engines, dev)
    app = dev.model.hl7_app or dev.model.model
    msg = hl7.oru_lab(app, FACILITY, _ts(ctx), f"{ctx.rng.randrange(10**9):09d}", patient(ctx.rng),
                      f"{dev.serial}^{dev.model.vendor} {dev.model.model}", 70 + ctx.rng.randrange(120))
    _mllp(ctx, dev, engine, HL7_PORT, msg, app, "2.5.1", "R01")


def adt(ctx: Context, sender: HospitalDevice, receiver: HospitalDevice) -> None:
    """ADT^A01 from ``sender`` (RIS or interface engine) to ``receiver``."""
    app = sender.model.hl7_app or "CLOVERLEAF"
    loc = f"{receiver.department.name.upper()}^{ctx.rng.randrange(1, 40):02d}^1"
    msg = hl7.adt_a01(app, FACILITY, _ts(ctx), f"{ctx.rng.randrange(10**9):09d}", patient(ctx.rng), loc)
    _mllp(ctx, sender, receiver, HL7_PORT, msg, app, "2.5.1", "A01")


def poct_conversation(ctx: Context, dev: HospitalDevice) -> None:
    """POCT1-A: HEL.R01/ACK, DST.R01/ACK, EOT.R01 from a POC analyzer to its data manager."""
    dm = ctx.pick(ctx.roles.poct_dms, dev)
    now = _iso(ctx)
    vendor_id = dev.model.vendor.split()[0][:4].upper()
    control = 10000 + ctx.rng.randrange(80000)
    conv = ctx.tcp(dev, ctx.peer(dev, dm), POCT_PORT)
    conv.open()
    conv.exchange(poct.hello(control, now, vendor_id, dev.model.model, dev.serial, dev.model.vendor,
                             dev.firmware.version), poct.ack(4001, now, control))
    conv.exchange(poct.status(control + 1, now, ctx.rng.randrange(0, 3)), poct.ack(4002, now, control + 1))
    conv.send(True, poct.end_of_topic(control + 2, now))
    conv.close()
