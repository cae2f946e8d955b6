"""A small routed lab in network namespaces: a gateway with one veth link per host namespace.

``Lab`` creates ``<prefix>gw`` (IP forwarding on) and one namespace per host, each on its own /24
(``10.<net>.<i>.0/24``: the gateway is ``.1``, the host ``.10``). Everything is removed by ``close``.
Interface names stay under 15 characters (IFNAMSIZ).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.capture import SENTINEL, _wait_for_bytes, _wait_listening


def can_netns() -> str | None:
    """Why a netns test cannot run here, or ``None`` when it can."""
    if os.geteuid() != 0:
        return "needs root (ip netns, veth, nftables)"
    for tool in ("ip", "nft", "tcpdump"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: iproute2, nftables, tcpdump)"
    return None


def run(*cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a command, text output captured."""
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=timeout)


@dataclass
class Host:
    """One host namespace."""

    name: str
    ns: str
    ip: str
    gw_ip: str


@dataclass
class Lab:
    """The gateway and its hosts."""

    prefix: str
    net: int
    gateway: str = ""
    hosts: dict[str, Host] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    def start(self, names: Sequence[str]) -> None:
        """Create the gateway and one host namespace per name."""
        self.gateway = f"{self.prefix}gw"
        self._ns(self.gateway)
        self.exec(self.gateway, "ip", "link", "set", "lo", "up")
        self.exec(self.gateway, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for i, name in enumerate(names, start=1):
            ns = f"{self.prefix}{name}"
            self._ns(ns)
            host = Host(name, ns, f"10.{self.net}.{i}.10", f"10.{self.net}.{i}.1")
            gw_if, host_if = f"{self.prefix}g{i}", f"{self.prefix}h{i}"
            run("ip", "link", "add", gw_if, "netns", self.gateway, "type", "veth", "peer", "name", host_if,
                "netns", ns)
            self.exec(self.gateway, "ip", "addr", "add", f"{host.gw_ip}/24", "dev", gw_if)
            self.exec(self.gateway, "ip", "link", "set", gw_if, "up")
            self.exec(ns, "ip", "link", "set", "lo", "up")
            self.exec(ns, "ip", "addr", "add", f"{host.ip}/24", "dev", host_if)
            self.exec(ns, "ip", "link", "set", host_if, "up")
            self.exec(ns, "ip", "route", "add", "default", "via", host.gw_ip)
            self.hosts[name] = host

    def gw_if(self, name: str) -> str:
        """The gateway's interface towards host ``name``."""
        return f"{self.prefix}g{list(self.hosts).index(name) + 1}"

    def _ns(self, ns: str) -> None:
        run("ip", "netns", "add", ns)
        self.created.append(ns)

    def exec(self, ns: str, *cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` inside namespace ``ns``."""
        return run("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout)

    def close(self) -> None:
        """Delete every namespace (their veth ends go with them)."""
        for ns in reversed(self.created):
            run("ip", "netns", "del", ns, check=False)
        self.created.clear()


@contextmanager
def capture_in(lab: Lab, ns: str, iface: str, path: Path, bpf: str,
               sentinel: tuple[str, str, int]) -> Iterator[Path]:
    """tcpdump ``bpf`` on ``iface`` inside ``ns`` while the block runs.

    ``sentinel`` = (namespace, IP, UDP port): on exit a datagram is sent from that namespace to that
    address (the filter must admit it); the capture stops once it is in the file, so every packet sent
    in the block is in the file too (tcpdump -U writes packets in order). No sleeps.
    """
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", iface, "-U", "--immediate-mode", "-n",
                             "-s", "0", "-w", str(path), bpf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(proc)
        yield path
        sender, ip, port = sentinel
        lab.exec(sender, sys.executable, "-m", "tests.prevent.dicom_ns", "udp", ip, str(port),
                 SENTINEL.decode())
        _wait_for_bytes(path, SENTINEL, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


@contextmanager
def serve(lab: Lab, ns: str, *args: str, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """Run ``python -m tests.prevent.dicom_ns ARGS`` in ``ns`` until the block ends; waits for ``ready``."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "tests.prevent.dicom_ns", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        if not ready or proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the DICOM SCP did not start")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
