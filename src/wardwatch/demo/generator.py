"""Generate a demo hospital capture: the round loop that makes every device speak, streamed to pcapng.

Time is cut into rounds (default 10 × 60 s). In each round every device gets a slot, in table order,
and emits what its kind does in that round: round 0 is boot (DHCP, LLDP, mDNS, SSDP, SDC Hello),
later rounds carry the periodic clinical traffic (HL7 vitals, DICOM studies, POCT status), cloud TLS,
planned hygiene/attack events and optional bulk background transfers. The clock only moves forward.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from wardwatch.demo.actions import clinical, events, network
from wardwatch.demo.actions.context import Context, Roles
from wardwatch.demo.hospital import HospitalDevice, build
from wardwatch.demo.truth import GenerationSummary, write
from wardwatch.demo.wire.pcapng import PcapngWriter
from wardwatch.demo.wire.session import Emitter

DEFAULT_START = 1_710_237_600.0  # 2024-03-12 10:00:00 UTC: a fixed epoch, so output is reproducible
ROUND_SECONDS = 60
DEFAULT_ROUNDS = 10


def _round(ctx: Context, dev: HospitalDevice, r: int, evs: list[events.Event] | None) -> None:
    b = dev.model.behaviours
    i = dev.index
    if r == 0:
        if dev.model.dhcp is not None:
            network.dhcp_exchange(ctx, dev)
        network.arp_boot(ctx, dev)
        if "sdc" in b:
            network.sdc_hello(ctx, dev)
    if "lldp_switch" in b or "lldp_med" in b:
        network.lldp(ctx, dev)
    if (r + i) % 5 == 0 and b & {"mdns_ipp", "mdns_axis", "mdns_apple", "mdns_ws"}:
        network.mdns(ctx, dev)
    if (r + i) % 5 == 0 and "ssdp" in b:
        network.ssdp(ctx, dev)
    if (r == 0 and dev.model.dhcp is None) or ("ntp" in b and (r + i) % 4 == 0):
        network.ntp_sync(ctx, dev)
    if "hl7_oru" in b:
        clinical.oru(ctx, dev)
    if "monitor_stream" in b:
        clinical.monitor_stream(ctx, dev)
    if "hl7_pump" in b and ctx.roles.pump_servers:
        clinical.pump(ctx, dev)
    if "hl7_lab" in b and (r + i) % 2 == 0:
        clinical.lab_result(ctx, dev)
    if "hl7_adt" in b:
        for cs in ctx.roles.central_stations[: 1 + len(ctx.roles.central_stations) // 20]:
            clinical.adt(ctx, dev, cs)
    if "hl7_engine" in b and ctx.roles.central_stations:
        clinical.adt(ctx, dev, ctx.roles.central_stations[(r + i) % len(ctx.roles.central_stations)])
    if "dicom_worklist" in b and (r + i) % 3 == 0:
        clinical.worklist(ctx, dev)
    if "dicom_store" in b and (r + i) % 2 == 0:
        clinical.store(ctx, dev)
    if "dicom_query" in b and (r + i) % 2 == 1:
        clinical.query(ctx, dev)
    if "poct" in b and (r + i) % 3 == 0:
        clinical.poct_conversation(ctx, dev)
    if "tls_cloud" in b and (r + i) % 3 == 1:
        network.cloud(ctx, dev)
    if "dns_heavy" in b and (r + i) % 2 == 0:
        server = ctx.pick(ctx.roles.engines, dev)
        network.dns_lookup(ctx, dev, ctx.fqdn(server), server.ip)
    if "internet_cloud" in b and (r + i) % 2 == 0:
        events.internet_cleartext(ctx, dev)
    for ev in evs or ():
        if ev.round == r:
            events.run(ctx, ev)


def generate_hospital(devices: int, seed: int, output: Path, *, start: float = DEFAULT_START,
                      progress: Callable[[int, int], None] | None = None, rounds: int = DEFAULT_ROUNDS,
                      round_seconds: int = ROUND_SECONDS, background_packets: int = 0) -> GenerationSummary:
    """Write a demo hospital capture to ``output`` (pcapng) and its ground truth beside it.

    The truth goes to ``output.with_suffix(".truth.json")``. The same arguments always give the same
    bytes. ``progress(done, total)`` is called as rounds complete. ``background_packets`` adds about
    that many packets of bulk DICOM C-STORE traffic (modalities to PACS), spread over the rounds.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    began = time.perf_counter()
    output = Path(output)
    table = build(devices, seed)
    planned = events.plan(table, seed, rounds)
    roles = Roles.of(table)
    start_us = int(start * 1_000_000)
    round_us = round_seconds * 1_000_000
    bulk = events.BulkStore() if background_packets else None
    with PcapngWriter(output) as writer:
        em = Emitter(writer, start_us)
        ctx = Context(em, random.Random(f"wardwatch-demo-traffic:{seed}"), roles, rounds, round_us)
        slot = max(1, int(round_us * 0.85) // len(table))
        for r in range(rounds):
            base = start_us + r * round_us
            for dev in table:
                em.at(base + dev.index * slot + ctx.rng.randrange(max(1, slot // 2)))
                _round(ctx, dev, r, planned.get(dev.index))
            if bulk is not None:
                quota = writer.packets + background_packets // rounds
                k = 0
                while writer.packets < quota and roles.modalities:
                    scu = roles.modalities[(r * 7919 + k) % len(roles.modalities)]
                    bulk.transfer(ctx, scu, ctx.pick(roles.pacs, scu))
                    k += 1
            if progress is not None:
                progress(r + 1, rounds)
        packets, nbytes, end_us = writer.packets, writer.bytes, em.now
    truth = output.with_suffix(".truth.json")
    meta = {"seed": seed, "devices": devices, "rounds": rounds, "round_seconds": round_seconds,
            "background_packets": background_packets, "start": start, "end": end_us / 1e6,
            "packets": packets, "capture": output.name,
            "external_hosts": {"c2": {"host": ctx.c2_host, "ip": ".".join(map(str, ctx.c2_ip))}}}
    write(truth, table, meta)
    return GenerationSummary(output, truth, devices, packets, nbytes, seed, start, end_us / 1e6,
                             time.perf_counter() - began)
