"""A real IEEE 11073 SDC exchange, captured in a private network namespace.

sdc11073 runs a provider that publishes one of ``../shared/data/sdc-mdib/*.xml`` and a consumer that
discovers it (WS-Discovery Hello, Probe/ProbeMatches on UDP 3702, multicast), reads its metadata
(WS-Transfer Get → dpws:ThisModel/ThisDevice) and its MDIB (GetMdib) over plain HTTP, then stops
(Bye). WS-Discovery is multicast, so the whole scenario runs in a fresh netns whose loopback has
multicast switched on; nothing touches the host's interfaces. Needs root and ``ip``.

``python -m tests.peers.sdc MDIB_PATH SENTINEL_PORT`` is the scenario itself (run inside the netns);
:func:`capture_sdc` is what tests call.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.peers.capture import SENTINEL, capture, free_port

#: What the provider says about itself (tests compare the dissector's output with these).
THIS_MODEL = {"manufacturer": "Wardwatch Test Medical", "model_name": "InfusoMat Space Sim",
              "model_number": "IMS-8713", "manufacturer_url": "https://example.invalid/mfr"}
THIS_DEVICE = {"friendly_name": "Pump Bed 7", "firmware_version": "FW 4.2.7", "serial_number": "SN-SDC-0042"}
EPR = "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "wardwatch-test-sdc-provider"))
SCENARIO_TIMEOUT = 90
#: The provider binds (WS-Discovery and HTTP) to a second loopback address, the consumer to 127.0.0.1,
#: so the two ends have different IPs in the capture.
PROVIDER_IP = "127.0.0.2"
CONSUMER_IP = "127.0.0.1"


@dataclass(frozen=True)
class SdcCapture:
    """The pcap of the scenario and the MDIB file the provider published."""

    pcap: Path
    mdib: Path


def netns_available() -> bool:
    """Root and iproute2 present (the scenario needs its own network namespace)."""
    return os.geteuid() == 0 and shutil.which("ip") is not None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def capture_sdc(tmp: Path, mdib: Path) -> SdcCapture:
    """Run provider + consumer in a new netns while tcpdump captures its loopback."""
    ns = f"ww-sdc-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    _ip("netns", "add", ns)
    try:
        _ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        _ip("netns", "exec", ns, "ip", "link", "set", "lo", "multicast", "on")
        _ip("netns", "exec", ns, "ip", "route", "add", "224.0.0.0/4", "dev", "lo")
        pcap = tmp / "sdc.pcap"
        sentinel_port = free_port(socket.SOCK_DGRAM)
        prefix = ["ip", "netns", "exec", ns]
        root = Path(__file__).resolve().parents[2]
        with capture(pcap, "udp or tcp", prefix=prefix, sentinel_port=sentinel_port,
                     send_sentinel=False):
            subprocess.run([*prefix, sys.executable, "-m", "tests.peers.sdc", str(mdib), str(sentinel_port)],
                           check=True, cwd=root, timeout=SCENARIO_TIMEOUT, capture_output=True,
                           env={**os.environ, "PYTHONPATH": str(root)})
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=30)
    return SdcCapture(pcap, mdib)


def run_scenario(mdib_path: Path, sentinel_port: int) -> None:
    """Provider publishes ``mdib_path``; a consumer finds it, reads metadata and MDIB; both stop."""
    from sdc11073.consumer.consumerimpl import SdcConsumer
    from sdc11073.definitions_sdc import SdcV1Definitions
    from sdc11073.location import SdcLocation
    from sdc11073.mdib.consumermdib import ConsumerMdib
    from sdc11073.mdib.providermdib import ProviderMdib
    from sdc11073.provider import SdcProvider
    from sdc11073.wsdiscovery import WSDiscovery
    from sdc11073.xml_types.dpws_types import ThisDeviceType, ThisModelType

    found = threading.Event()
    consumer_wsd = WSDiscovery(CONSUMER_IP)
    consumer_wsd.set_remote_service_hello_callback(lambda addr, service: found.set())
    consumer_wsd.start()  # type: ignore[no-untyped-call]
    provider_wsd = WSDiscovery(PROVIDER_IP)
    provider_wsd.start()  # type: ignore[no-untyped-call]
    mdib = ProviderMdib.from_mdib_file(str(mdib_path), protocol_definition=SdcV1Definitions)
    provider = SdcProvider(provider_wsd, ThisModelType(**THIS_MODEL), ThisDeviceType(**THIS_DEVICE), mdib,
                           epr=EPR, ssl_context_container=None)
    provider.start_all(start_rtsample_loop=False)
    provider.set_location(SdcLocation(fac="HOSP", poc="ICU3", bed="Bed7"))  # publishes: Hello
    try:
        if not found.wait(30):
            raise RuntimeError("the consumer never saw the provider's Hello")
        services = consumer_wsd.search_services(SdcV1Definitions.MedicalDeviceTypesFilter, timeout=0.5,
                                                repeat_probe_interval=1)  # Probe → ProbeMatches
        [service] = [s for s in services if s.epr == EPR]
        consumer = SdcConsumer.from_wsd_service(service, ssl_context_container=None)
        actions = [a for a in vars(SdcV1Definitions.Actions).values() if isinstance(a, str) and "/" in a]
        consumer.start_all(not_subscribed_actions=actions)  # GetMetadata, no subscriptions
        ConsumerMdib(consumer).init_mdib()  # type: ignore[no-untyped-call]  # GetMdib
        consumer.stop_all(unsubscribe=False)
    finally:
        provider.stop_all()
        provider_wsd.stop()  # type: ignore[no-untyped-call]  # Bye
        consumer_wsd.stop()  # type: ignore[no-untyped-call]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(SENTINEL, ("127.0.0.1", sentinel_port))


if __name__ == "__main__":
    run_scenario(Path(sys.argv[1]), int(sys.argv[2]))
