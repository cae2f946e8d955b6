"""Must show 1 (issue 7): enforcement for real, in network namespaces.

modality, PACS and attacker namespaces hang off a gateway namespace (veth links, IP forwarding).
Real DICOM (pynetdicom C-ECHO + C-STORE) from the modality to the PACS is captured on the gateway;
wardwatch learns the baseline from that capture, generates the policy, replays the baseline capture
(nothing blocked) and an attacker's capture (blocked), applies the policy as nftables on the gateway
(DICOM still flows, the attacker's connect times out), then rolls back (previous ruleset restored).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.prevent.netns import Lab, can_netns, capture_in, serve
from wardwatch.domain.flow import PROTO_TCP
from wardwatch.errors import WardwatchError
from wardwatch.inventory.repository import Inventory
from wardwatch.pipeline.analyze import analyze_captures
from wardwatch.prevent.baseline import learn
from wardwatch.prevent.endpoints import DeviceDirectory
from wardwatch.prevent.enforce.nftables import NftablesGateway
from wardwatch.prevent.policy import generate
from wardwatch.prevent.replay import capture_flows, replay
from wardwatch.prevent.versions import PolicyVersions

ROOT = Path(__file__).resolve().parents[2]
PORT = 11112
SENTINEL_PORT = 40999
V0 = """table inet wardwatch {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tcounter comment "v0: the ruleset before wardwatch"
\t}
}
"""

pytestmark = pytest.mark.netns


def _dicom(lab: Lab, ns: str, pacs_ip: str, calling: str) -> int:
    done = lab.exec(ns, sys.executable, "-m", "tests.prevent.dicom_ns", "scu", pacs_ip, str(PORT), calling, "PACS",
                    check=False, timeout=60)
    return done.returncode


def _connect(lab: Lab, ns: str, ip: str, timeout: float) -> int:
    return lab.exec(ns, sys.executable, "-m", "tests.prevent.dicom_ns", "connect", ip, str(PORT), str(timeout),
                    check=False, timeout=60).returncode


def test_learn_replay_apply_rollback(tmp_path: Path) -> None:
    reason = can_netns()
    if reason:
        pytest.skip(reason)
    lab = Lab(prefix=f"ww{os.getpid() % 100000}", net=77)
    try:
        lab.start(["mod", "pacs", "atk"])
        mod, pacs, atk = lab.hosts["mod"], lab.hosts["pacs"], lab.hosts["atk"]
        bpf = f"tcp port {PORT} or udp port {SENTINEL_PORT}"
        with serve(lab, pacs.ns, "scp", pacs.ip, str(PORT), "PACS", cwd=ROOT):
            # 1. learning traffic: real DICOM, captured on the gateway's PACS-side interface
            normal = tmp_path / "baseline.pcap"
            with capture_in(lab, lab.gateway, lab.gw_if("pacs"), normal, bpf, (mod.ns, pacs.ip, SENTINEL_PORT)):
                assert _dicom(lab, mod.ns, pacs.ip, "CT_SCANNER") == 0
            attack = tmp_path / "attack.pcap"
            with capture_in(lab, lab.gateway, lab.gw_if("pacs"), attack, bpf, (atk.ns, pacs.ip, SENTINEL_PORT)):
                assert _dicom(lab, atk.ns, pacs.ip, "EVIL_SCU") == 0  # before enforcement it works

            # 2. learn, generate, version
            inventory = Inventory.open(f"sqlite:///{tmp_path / 'ww.db'}")
            analyze_captures([normal], inventory)
            directory = DeviceDirectory(inventory.list_devices())
            assert directory.device_for(mod.ip) is not None and directory.device_for(pacs.ip) is not None
            baseline = learn(inventory.flows(), directory)
            policy = generate(baseline, directory)
            assert any(r.proto == PROTO_TCP and r.port == PORT and r.src == (f"{mod.ip}/32",)
                       and r.dst == (f"{pacs.ip}/32",) for r in policy.rules)
            versions = PolicyVersions(inventory.engine)
            versions.add(policy, author="test")

            # 3. replay: the baseline passes untouched, the attacker's flows are blocked
            normal_report = replay(policy, capture_flows(normal), directory)
            assert normal_report.blocked == 0 and normal_report.allowed >= 1
            attack_report = replay(policy, capture_flows(attack), directory)
            blocked = attack_report.blocked_flows()
            assert any(b.src_ip == atk.ip and b.dst_ip == pacs.ip and b.port == PORT for b in blocked)
            assert all(b.src_ip != mod.ip for b in blocked)

            # 4. apply on the gateway: dry run changes nothing, then approve and apply for real
            loaded = lab.exec(lab.gateway, "sh", "-c", f"printf '%s' '{V0}' | nft -f -", check=False)
            assert loaded.returncode == 0, loaded.stderr
            before = lab.exec(lab.gateway, "nft", "list", "ruleset").stdout
            gateway = NftablesGateway(tmp_path / "state", netns=lab.gateway)
            with pytest.raises(WardwatchError):
                gateway.apply(policy, approver=" ", dry_run=False)
            dry = gateway.apply(policy, approver="Dr. Ruth Ng")
            assert dry.dry_run and lab.exec(lab.gateway, "nft", "list", "ruleset").stdout == before
            versions.approve(1, "Dr. Ruth Ng")
            gateway.apply(versions.active().policy, approver="Dr. Ruth Ng", dry_run=False)  # type: ignore[union-attr]
            assert "policy drop" in lab.exec(lab.gateway, "nft", "list", "table", "inet", "wardwatch").stdout

            # 5. DICOM still flows; the attacker's TCP connection is dropped (bounded connect timeout)
            assert _dicom(lab, mod.ns, pacs.ip, "CT_SCANNER") == 0
            assert _connect(lab, atk.ns, pacs.ip, 1.5) in (3, 4)

            # 6. one-step rollback restores the previous ruleset exactly
            gateway.rollback(approver="Dr. Ruth Ng")
            assert lab.exec(lab.gateway, "nft", "list", "ruleset").stdout == before
            assert _connect(lab, atk.ns, pacs.ip, 5) == 0
            inventory.close()
    finally:
        lab.close()
