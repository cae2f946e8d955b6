"""Network-service behaviour: DHCP, LLDP, mDNS, SSDP, SDC discovery, DNS, NTP and TLS to clouds."""

from __future__ import annotations

from wardwatch.demo.actions.context import Context, public_ip
from wardwatch.demo.hospital import DOMAIN, HospitalDevice
from wardwatch.demo.traffic import dhcp, discovery, infra
from wardwatch.demo.wire.frames import ETH_P_LLDP, ethernet
from wardwatch.demo.wire.session import Endpoint

BROADCAST_MAC = b"\xff" * 6
BROADCAST_IP = b"\xff" * 4
ZERO_IP = b"\x00" * 4


def dhcp_exchange(ctx: Context, dev: HospitalDevice) -> None:
    """DISCOVER, OFFER, REQUEST, ACK on the device's VLAN, the relay (gateway) answering (RFC 2131 §3.1)."""
    profile = dhcp.PROFILES[dev.model.dhcp or "embedded"]
    xid = ctx.rng.getrandbits(32)
    gw = dev.department.gateway_ip
    server = ctx.roles.dc.ip
    client0 = Endpoint(dev.mac, ZERO_IP, dev.vlan, 64 if not dev.model.os.startswith("Windows") else 128)
    bcast = Endpoint(BROADCAST_MAC, BROADCAST_IP, dev.vlan)
    relay = Endpoint(dev.department.gateway_mac, gw, dev.vlan, 255)
    to_client = Endpoint(dev.mac, BROADCAST_IP if profile.broadcast else dev.ip, dev.vlan)
    host = "" if dev.mac_randomized and dev.model.dhcp == "ios" else dev.hostname
    ctx.em.udp(client0, bcast, 68, 67, dhcp.client_message(dhcp.DISCOVER, profile, dev.mac, xid, host), 0)
    ctx.em.udp(relay, to_client, 67, 68, dhcp.server_message(dhcp.OFFER, dev.mac, xid, dev.ip, gw, server,
                                                              ctx.roles.dc.ip, DOMAIN), 900)
    ctx.em.udp(client0, bcast, 68, 67, dhcp.client_message(dhcp.REQUEST, profile, dev.mac, xid, host,
                                                            requested=dev.ip, server_id=server), 1200)
    ctx.em.udp(relay, to_client, 67, 68, dhcp.server_message(dhcp.ACK, dev.mac, xid, dev.ip, gw, server,
                                                              ctx.roles.dc.ip, DOMAIN), 800)


def arp_boot(ctx: Context, dev: HospitalDevice) -> None:
    """What every IPv4 host does once its address is set: announce it (RFC 5227 §2.3 ARP Announcement,
    RFC 2131 §4.4.1 for DHCP clients; statically addressed servers too) and resolve its gateway (RFC 826),
    which answers."""
    gw_mac, gw_ip = dev.department.gateway_mac, dev.department.gateway_ip
    announce = infra.arp(infra.ARP_REQUEST, dev.mac, dev.ip, b"\0" * 6, dev.ip)
    ctx.em.frame(ethernet(BROADCAST_MAC, dev.mac, dev.vlan, infra.ETH_P_ARP) + announce, 400)
    ask = infra.arp(infra.ARP_REQUEST, dev.mac, dev.ip, b"\0" * 6, gw_ip)
    ctx.em.frame(ethernet(BROADCAST_MAC, dev.mac, dev.vlan, infra.ETH_P_ARP) + ask, 300)
    answer = infra.arp(infra.ARP_REPLY, gw_mac, gw_ip, dev.mac, dev.ip)
    ctx.em.frame(ethernet(dev.mac, gw_mac, dev.vlan, infra.ETH_P_ARP) + answer, 200)


def lldp(ctx: Context, dev: HospitalDevice) -> None:
    """An LLDPDU: switches advertise themselves; phones add LLDP-MED inventory and a voice policy."""
    m = dev.model
    if "lldp_switch" in m.behaviours:
        desc = (f"Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
                f"Version {dev.firmware.version}, RELEASE SOFTWARE (fc2)")
        pdu = discovery.lldp(dev.mac, "Gi1/0/48", dev.hostname, desc, 0x0014, 0x0014, mgmt_ip=dev.ip)
    else:
        med = {"hardware": "1", "firmware": dev.firmware.version, "software": dev.firmware.version,
               "serial": dev.serial, "manufacturer": m.vendor, "model": m.model}
        pdu = discovery.lldp(dev.mac, "Port 1", dev.hostname, f"{m.vendor} {m.model}, {dev.firmware.version}",
                             0x0024, 0x0024, med=med, voice_vlan=dev.vlan, mgmt_ip=dev.ip)
    ctx.em.frame(ethernet(discovery.LLDP_MAC, dev.mac, dev.vlan, ETH_P_LLDP) + pdu, 300)


def _mdns_ep(dev: HospitalDevice) -> tuple[Endpoint, Endpoint]:
    return (Endpoint(dev.mac, dev.ip, dev.vlan, 255), Endpoint(discovery.MDNS_MAC, discovery.MDNS_IP, dev.vlan))


def mdns(ctx: Context, dev: HospitalDevice) -> None:
    """DNS-SD announcements: printers ``_ipp._tcp``, Axis cameras ``_axis-video._tcp``, Apple devices."""
    src, dst = _mdns_ep(dev)
    b = dev.model.behaviours
    if "mdns_ipp" in b:
        name = f"{dev.model.vendor} {dev.model.model} [{dev.mac[3:].hex().upper()}]"
        txt = ["txtvers=1", "qtotal=1", "rp=ipp/print", f"ty={dev.model.vendor} {dev.model.model}",
               f"product=({dev.model.model})", "pdl=application/pdf,image/urf", f"note={dev.department.name}",
               f"UUID={discovery.stable_uuid('ipp', dev.mac.hex())}"]
        payload = discovery.mdns_announce("_ipp._tcp", name, dev.hostname, dev.ip, 631, txt)
    elif "mdns_axis" in b:
        txt = [f"macaddress={dev.mac.hex().upper()}"]
        payload = discovery.mdns_announce("_axis-video._tcp", f"AXIS {dev.model.model} - {dev.mac.hex().upper()}",
                                          dev.hostname, dev.ip, 80, txt)
    elif "mdns_apple" in b:
        payload = discovery.mdns_query(["_airplay._tcp", "_raop._tcp", "_companion-link._tcp"])
    else:
        payload = discovery.mdns_query(["_ipp._tcp", "_printer._tcp"])
    ctx.em.udp(src, dst, 5353, 5353, payload, 200)


def ssdp(ctx: Context, dev: HospitalDevice) -> None:
    """SSDP: Windows hosts search, embedded devices announce themselves."""
    src = Endpoint(dev.mac, dev.ip, dev.vlan, 4 if not dev.model.os.startswith("Windows") else 2)
    dst = Endpoint(discovery.SSDP_MAC, discovery.SSDP_IP, dev.vlan)
    if dev.model.device_class == "workstation":
        payload = discovery.ssdp_msearch("Microsoft-Windows/10.0 UPnP/1.0")
        ctx.em.udp(src, dst, ctx.port(dev), 1900, payload, 200)
        return
    server = f"Linux/4.14 UPnP/1.0 {dev.model.vendor.replace(' ', '')}/{dev.firmware.version}"
    payload = discovery.ssdp_notify(".".join(map(str, dev.ip)), server, discovery.stable_uuid("ssdp", dev.mac.hex()))
    ctx.em.udp(src, dst, 1900, 1900, payload, 200)


#: MDS type codes (ISO/IEEE 11073-10101 nomenclature) an SDC provider announces as ``sdc.cdc.type`` scopes
#: (IEEE 11073-20701 §9.3): multi-parameter patient monitor, ventilator, anaesthesia system (the code in
#: Dräger's own MDIB, ../shared/data/sdc-mdib/tests_70041_MDIB_Final.xml).
MDS_TYPES: dict[str, str] = {"patient_monitor": "69965", "ventilator": "70001", "anesthesia_machine": "70041"}


def sdc_hello(ctx: Context, dev: HospitalDevice) -> None:
    """WS-Discovery Hello of an SDC provider to 239.255.255.250:3702 (IEEE 11073-20702 §8.3)."""
    src = Endpoint(dev.mac, dev.ip, dev.vlan, 1)
    dst = Endpoint(discovery.SSDP_MAC, discovery.SSDP_IP, dev.vlan)
    ep_uuid = discovery.stable_uuid("sdc", dev.mac.hex())
    ip = ".".join(map(str, dev.ip))
    bed = f"BED{dev.index % 40 + 1:02d}"
    loc = (f"sdc.ctxt.loc:/sdc.ctxt.loc.detail/STMARY%2F%2F{dev.department.name.upper()}%2F%2F%2F{bed}"
           f"?fac=STMARY&poc={dev.department.name.upper()}&bed={bed}")
    mds = MDS_TYPES.get(dev.model.device_class)
    payload = discovery.wsd_hello(ep_uuid, discovery.stable_uuid("msg", dev.mac.hex(), ctx.em.now),
                                  f"https://{ip}:6464/{ep_uuid}", loc, 1 + dev.index,
                                  [f"sdc.cdc.type:///{mds}"] if mds else [])
    ctx.em.udp(src, dst, 3702, 3702, payload, 200)


def dns_lookup(ctx: Context, dev: HospitalDevice, name: str, answer: bytes) -> None:
    """A DNS query to the domain controller and its answer."""
    dc = ctx.peer(dev, ctx.roles.dc)
    qid = ctx.rng.getrandbits(16)
    sport = ctx.port(dev)
    ctx.em.udp(ctx.ep(dev), dc, sport, 53, infra.dns_query(qid, name), 100)
    reply = Endpoint(dc.mac, dc.ip, dev.vlan, dc.ttl)
    ctx.em.udp(reply, Endpoint(dev.mac, dev.ip, dev.vlan), 53, sport, infra.dns_response(qid, name, answer), 400)


def ntp_sync(ctx: Context, dev: HospitalDevice) -> None:
    """One NTPv4 client/server exchange with the domain controller (the DC itself asks an internet pool)."""
    if dev is ctx.roles.dc:
        server = ctx.internet(dev, public_ip("time.windows.com", (20, 101)))
    else:
        server = ctx.peer(dev, ctx.roles.dc)
    req = infra.ntp_request(ctx.em.now)
    sport = 123 if dev.model.dhcp in (None, "vxworks", "qnx", "embedded", "philips_monitor") else ctx.port(dev)
    ctx.em.udp(ctx.ep(dev), server, sport, 123, req, 100)
    ctx.em.udp(Endpoint(server.mac, server.ip, dev.vlan, server.ttl), Endpoint(dev.mac, dev.ip, dev.vlan),
               123, sport, infra.ntp_response(ctx.em.now, req[40:48], b"LOCL"), 600)


def tls_session(ctx: Context, dev: HospitalDevice, host: str, ip: bytes, *, legacy: bool = False,
                app_bytes: int = 600) -> None:
    """Resolve ``host``, then a TLS handshake (SNI ``host``) and a little application data."""
    dns_lookup(ctx, dev, host, ip)
    conv = ctx.tcp(dev, ctx.internet(dev, ip), 443, rtt_us=8000 + ctx.rng.randrange(30000))
    seed = (dev.index, ctx.em.now)
    conv.open()
    conv.exchange(infra.client_hello(host, seed, legacy=legacy), infra.server_flight(seed, legacy=legacy))
    conv.exchange(infra.application_data(app_bytes, seed), infra.application_data(app_bytes * 3, (seed, 1)))
    conv.close()


def cloud(ctx: Context, dev: HospitalDevice) -> None:
    """TLS to the model's vendor cloud (Windows 7/XP offer TLS 1.2 only)."""
    host = dev.model.cloud or "www.example.com"
    legacy = dev.model.os.startswith(("Windows 7", "Windows XP"))
    tls_session(ctx, dev, host, public_ip(host), legacy=legacy)
