"""Hygiene problems, attacks and bulk background traffic: who takes part, and the conversations."""

from __future__ import annotations

import random
from dataclasses import dataclass

from wardwatch.demo.actions.clinical import DICOM_PORT, unknown_ae
from wardwatch.demo.actions.context import Context, public_ip
from wardwatch.demo.actions.network import tls_session
from wardwatch.demo.hospital import HospitalDevice
from wardwatch.demo.traffic import dicom, dicom_data, hygiene, infra
from wardwatch.demo.traffic.patients import patient

SCAN_PORTS = (21, 22, 23, 80, 104, 443, 445, 2575, 3389, 8080)
CLINICAL = {"infusion_pump", "syringe_pump", "patient_monitor", "vital_signs_monitor", "central_station",
            "ventilator", "anesthesia_machine", "ct_scanner", "mr_scanner", "ultrasound", "xray",
            "pacs_archive", "imaging_workstation", "clinical_information_system", "lab_analyzer",
            "poc_analyzer"}


@dataclass(frozen=True, slots=True)
class Event:
    """A one-off conversation: ``kind`` between ``client`` and ``server`` in round ``round``."""

    kind: str
    round: int
    client: HospitalDevice
    server: HospitalDevice | None
    targets: tuple[HospitalDevice, ...] = ()


def plan(table: list[HospitalDevice], seed: int, rounds: int) -> dict[int, list[Event]]:
    """Decide hygiene and attack participation (recorded on the devices) and schedule the events.

    Returns the events keyed by the index of the device in whose slot they are emitted.
    """
    rng = random.Random(f"wardwatch-demo-events:{seed}")
    events: dict[int, list[Event]] = {}
    workstations = [d for d in table if d.model.device_class == "workstation"]
    xp = [d for d in workstations if d.model.key == "hp_xp_station"] or workstations
    file_server = next(d for d in table if d.model.key == "file_server_2008")

    def add(kind: str, client: HospitalDevice, server: HospitalDevice, label: str) -> None:
        events.setdefault(client.index, []).append(Event(kind, client.index % rounds, client, server))
        for party in (client, server):
            if label not in party.hygiene:
                party.hygiene.append(label)

    for dev in table:
        b = dev.model.behaviours
        if dev.model.end_of_life:
            dev.hygiene.append("end_of_life_os")
        if "smb1" in b:
            add("smb1", dev, file_server, "smbv1")
        if "telnet_server" in b and rng.random() < 0.5:
            add("telnet", xp[dev.index % len(xp)], dev, "telnet_cleartext_login")
        if "ftp_client" in b and rng.random() < 0.6:
            add("ftp", dev, file_server, "ftp_cleartext_login")
        if "http_basic_server" in b and rng.random() < 0.4:
            add("http_basic", workstations[dev.index % len(workstations)], dev, "http_basic_auth")
        if "internet_cloud" in b:
            dev.hygiene.append("internet_cleartext")
        if "tls_cloud" in b and dev.model.device_class in CLINICAL:
            dev.hygiene.append("internet_bound")
    attacker = next(d for d in table if d.model.key == "guest_laptop")
    scan_round = max(0, rounds // 2)
    targets = [d for d in table if d.model.device_class in CLINICAL]
    targets = sorted(rng.sample(targets, min(40, len(targets))), key=lambda d: d.index)
    events.setdefault(attacker.index, []).append(Event("scan", scan_round, attacker, None, tuple(targets)))
    attacker.attacks.append("syn_scan:source")
    for t in targets:
        t.attacks.append("syn_scan:target")
    pacs = next(d for d in table if d.model.device_class == "pacs_archive")
    events[attacker.index].append(Event("unknown_ae", min(1, rounds - 1), attacker, pacs))
    attacker.attacks.append("dicom_unknown_ae:source")
    pacs.attacks.append("dicom_unknown_ae:target")
    victim = next(d for d in table if d.model.key == "dell_optiplex_w7")
    victim.attacks.append("c2_beacon:source")
    for r in range(rounds):
        events.setdefault(victim.index, []).append(Event("beacon", r, victim, None))
    for ev_list in events.values():
        ev_list.sort(key=lambda e: e.round)
    return events


def _script(ctx: Context, client: HospitalDevice, server: HospitalDevice, port: int,
            script: list[tuple[bool, bytes]]) -> None:
    conv = ctx.tcp(client, ctx.peer(client, server), port)
    conv.open()
    for from_client, data in script:
        conv.send(from_client, data)
    conv.close()


def run(ctx: Context, ev: Event) -> None:
    """Emit one planned event."""
    c, s = ev.client, ev.server
    if ev.kind == "smb1" and s is not None:
        pid = ctx.rng.randrange(1, 65535)
        _script(ctx, c, s, 445, [(True, hygiene.smb1_negotiate(pid)),
                                 (False, hygiene.smb1_negotiate_response(pid, "STMARY", s.hostname,
                                                                         infra.opaque(8, "chal", c.index)))])
    elif ev.kind == "telnet" and s is not None:
        _script(ctx, c, s, 23, hygiene.telnet_session("admin", "admin", f"{s.model.vendor} {s.model.model}"))
    elif ev.kind == "ftp" and s is not None:
        _script(ctx, c, s, 21, hygiene.ftp_session("service", "service123", "Microsoft FTP Service",
                                                   f"{c.hostname}.log"))
    elif ev.kind == "http_basic" and s is not None:
        _script(ctx, c, s, 80, hygiene.http_basic(".".join(map(str, s.ip)), "/status", "admin", "password",
                                                  "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                                                  f"{s.model.vendor} embedded web server", s.model.model))
    elif ev.kind == "unknown_ae" and s is not None:
        unknown_ae(ctx, c, s)
    elif ev.kind == "beacon":
        tls_session(ctx, c, ctx.c2_host, ctx.c2_ip, app_bytes=214)
    elif ev.kind == "scan":
        for target in ev.targets:
            for port in SCAN_PORTS:
                conv = ctx.tcp(c, ctx.peer(c, target), port, sport=40000 + ctx.rng.randrange(20000), rtt_us=300)
                conv.syn_probe(open_port=port in _open_ports(target))


def _open_ports(dev: HospitalDevice) -> set[int]:
    b = dev.model.behaviours
    ports = {80} if "http_basic_server" in b or dev.model.device_class in ("pacs_archive",) else set()
    if "telnet_server" in b:
        ports.add(23)
    if b & {"dicom_scp", "dicom_mwl_scp"}:
        ports.add(DICOM_PORT)
    if dev.model.os.startswith("Windows"):
        ports |= {445, 3389}
    return ports


def internet_cleartext(ctx: Context, dev: HospitalDevice) -> None:
    """A camera posting status to its cloud in clear HTTP."""
    host = dev.model.cloud or "example.com"
    ip = public_ip(host, (47, 96))
    conv = ctx.tcp(dev, ctx.internet(dev, ip), 80, rtt_us=40000)
    conv.open()
    for from_client, data in hygiene.http_post(host, "/api/device/heartbeat", "Hik-Connect/4.0",
                                               f'{{"serial":"{dev.serial}","fw":"{dev.firmware.version}"}}'
                                               .encode()):
        conv.send(from_client, data)
    conv.close()


class BulkStore:
    """Background C-STORE transfers of one precomputed large image, to stress capture paths.

    The P-DATA byte stream is built once (pynetdicom encoders) and cut into MSS-sized chunks once;
    every transfer reuses the same chunk objects, so per-packet cost is header packing only.
    """

    def __init__(self, rows: int = 256, cols: int = 256) -> None:
        self._rows, self._cols = rows, cols
        self._chunks: dict[str, list[bytes]] = {}

    def _stream(self, modality: str, ae: str) -> list[bytes]:
        key = modality
        if key not in self._chunks:
            sop = dicom.STORAGE_SOP.get(modality, dicom.STORAGE_SOP["CT"])
            iuid = dicom_data.uid_for("bulk", modality)
            ds = dicom_data.image(modality, patient(random.Random(modality)), dicom_data.uid_for("bs", modality),
                                  dicom_data.uid_for("bse", modality), iuid, "BULK", "BULK", "BULK", "1",
                                  self._rows, self._cols)
            rq, _ = dicom.store(1, 1, sop, iuid, ds, ae)
            self._chunks[key] = [rq[i:i + 1460] for i in range(0, len(rq), 1460)]
        return self._chunks[key]

    def transfer(self, ctx: Context, scu: HospitalDevice, scp: HospitalDevice) -> None:
        """One association carrying the bulk image (RQ/AC, P-DATA, RSP, release)."""
        modality = scu.model.modality or "CT"
        chunks = self._stream(modality, scu.ae_title or "")
        sop = dicom.STORAGE_SOP.get(modality, dicom.STORAGE_SOP["CT"])
        calling, called = scu.ae_title or "ANY-SCU", scp.ae_title or "ANY-SCP"
        impl = scu.model.dicom_impl or ("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367")
        rq, contexts = dicom.associate_rq(calling, called, [sop], impl)
        conv = ctx.tcp(scu, ctx.peer(scu, scp), DICOM_PORT)
        conv.open()
        conv.exchange(rq, dicom.associate_ac(calling, called, contexts, scp.model.dicom_impl or impl))
        conv.send_chunks(True, chunks)
        _, rsp = dicom.store(1, 1, sop, dicom_data.uid_for("bulk", modality), b"", calling)
        conv.send(False, rsp)
        conv.exchange(dicom.release_rq(), dicom.release_rp())
        conv.close()
