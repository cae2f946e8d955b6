"""``wardwatch sensor``, ``wardwatch server`` and ``wardwatch status``: continuous, distributed operation.

``sensor`` reads one source and publishes Observation batches: with ``--nats`` to the deployment's
JetStream stream (through an fsync'd on-disk spool), without it all-in-one into ``--db`` through an
in-process queue. ``server`` consumes the stream into the inventory with N worker processes sharing one
durable consumer. ``status`` lists sensors with lag, drops and last contact.

This module also runs standalone: ``python -m wardwatch.cli.realtime_cmd sensor ...``.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from wardwatch.cli.common import DbOption, OutputFormat, console, err_console, fail, settings_for, write_json

NatsOption = Annotated[str | None, typer.Option("--nats", envvar="WARDWATCH_NATS_URL",
                                                help="NATS URL(s), comma-separated; none: all-in-one mode.")]
DeploymentOption = Annotated[str, typer.Option("--deployment", envvar="WARDWATCH_DEPLOYMENT",
                                               help="Deployment name (stream WARDWATCH_<NAME>).")]
UserOption = Annotated[str | None, typer.Option("--nats-user", envvar="WARDWATCH_NATS_USER")]
PasswordOption = Annotated[str | None, typer.Option("--nats-password", envvar="WARDWATCH_NATS_PASSWORD")]
CredsOption = Annotated[str | None, typer.Option("--nats-creds", envvar="WARDWATCH_NATS_CREDS",
                                                 help="NATS credentials file (JWT + nkey seed).")]
NkeyOption = Annotated[str | None, typer.Option("--nats-nkey", envvar="WARDWATCH_NATS_NKEY",
                                                help="File holding an nkey seed.")]
TlsCaOption = Annotated[str | None, typer.Option("--tls-ca", help="CA bundle of the NATS server.")]
TlsCertOption = Annotated[str | None, typer.Option("--tls-cert", help="Client certificate (PEM).")]
TlsKeyOption = Annotated[str | None, typer.Option("--tls-key", help="Client key (PEM).")]


def _nats_options(url: str, name: str, user: str | None, password: str | None, creds: str | None,
                  nkey: str | None, tls_ca: str | None, tls_cert: str | None, tls_key: str | None) -> Any:
    from wardwatch.pipeline.bus.jetstream import NatsOptions

    return NatsOptions(servers=tuple(u.strip() for u in url.split(",") if u.strip()), user=user, password=password,
                       creds=creds, nkey_seed=nkey, tls_ca=tls_ca, tls_cert=tls_cert, tls_key=tls_key, name=name)


def _check_name(label: str, value: str) -> None:
    from wardwatch.pipeline.batch import valid_name

    if not valid_name(value):
        fail(f"{label} {value!r}: use 1-64 letters, digits, '-' or '_'", 2)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def sensor(
    ctx: typer.Context,
    site: Annotated[str, typer.Option("--site", help="The site this sensor watches (NATS subject token).")],
    interface: Annotated[str | None, typer.Option("--interface", "-i", help="Capture live on this interface.")] = None,
    pcap: Annotated[Path | None, typer.Option("--pcap", help="Read a pcap/pcapng file.")] = None,
    zeek: Annotated[Path | None, typer.Option("--zeek", help="Read a Zeek log folder (or file).")] = None,
    eve: Annotated[Path | None, typer.Option("--eve", help="Read a Suricata EVE JSON file.")] = None,
    follow: Annotated[bool, typer.Option("--follow", help="Follow growing Zeek/EVE files.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Sensor name (default: the host name).")] = None,
    bpf: Annotated[str, typer.Option("--bpf", help="BPF capture filter.")] = "",
    snaplen: Annotated[int, typer.Option("--snaplen", help="Bytes kept per packet.")] = 65535,
    promisc: Annotated[bool, typer.Option("--promisc/--no-promisc")] = True,
    buffer_mb: Annotated[int, typer.Option("--buffer-mb", help="Kernel capture ring, MiB.")] = 32,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Capture processes (fanout).")] = 1,
    interval: Annotated[float, typer.Option("--interval", help="Seconds per batch.")] = 1.0,
    spool: Annotated[Path | None, typer.Option("--spool", help="Spool folder (distributed mode).")] = None,
    drain_timeout: Annotated[float, typer.Option("--drain-timeout", help="Seconds to send the spool at exit.")] = 30,
    nats: NatsOption = None,
    deployment: DeploymentOption = "default",
    nats_user: UserOption = None,
    nats_password: PasswordOption = None,
    nats_creds: CredsOption = None,
    nats_nkey: NkeyOption = None,
    tls_ca: TlsCaOption = None,
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    db: DbOption = None,
) -> None:
    """Read one source and publish Observation batches (JetStream with --nats, else into --db)."""
    from wardwatch.pipeline.sensor import Sensor, SensorSettings
    from wardwatch.pipeline.spool import IdSource

    chosen = [x for x in (interface, pcap, zeek, eve) if x is not None]
    if len(chosen) != 1:
        fail("give exactly one of --interface, --pcap, --zeek, --eve", 2)
    sensor_name = name or socket.gethostname().split(".")[0]
    _check_name("site", site)
    _check_name("sensor name", sensor_name)
    _check_name("deployment", deployment)
    settings = settings_for(ctx, db)
    local = tuple(settings.identify.local_networks)
    source = _source(interface, pcap, zeek, eve, follow, sensor_name, local, bpf, snaplen, promisc, buffer_mb,
                     workers)
    stop = threading.Event()
    _stop_on_signals(stop)
    sensor_settings = SensorSettings(name=sensor_name, site=site, interval=interval)
    if nats:
        _run_distributed(source, sensor_settings, stop, spool, drain_timeout, deployment,
                         _nats_options(nats, f"sensor-{sensor_name}", nats_user, nats_password, nats_creds,
                                       _read_seed(nats_nkey), tls_ca, tls_cert, tls_key))
        return
    from wardwatch.pipeline.allinone import run_all_in_one
    from wardwatch.pipeline.server import ServerSettings

    report = run_all_in_one(settings.database_url, Sensor(sensor_settings, source, _memory_outlet(),
                                                          IdSource(sensor_name)), stop,
                            local_networks=local, server=ServerSettings.of(settings))
    err_console.print(f"sensor {sensor_name}: {report.batches} batches, {report.observations} observations, "
                      f"counters {report.counters}", markup=False)


_BUS: dict[str, Any] = {}


def _memory_outlet() -> Any:
    from wardwatch.pipeline.bus.memory import MemoryBus
    from wardwatch.pipeline.sensor import MemoryOutlet

    _BUS["bus"] = MemoryBus()
    return MemoryOutlet(_BUS["bus"])


def _read_seed(path: str | None) -> str | None:
    return Path(path).read_text(encoding="ascii").strip() if path else None


def _source(interface: str | None, pcap: Path | None, zeek: Path | None, eve: Path | None, follow: bool,
            sensor_name: str, local: tuple[str, ...], bpf: str, snaplen: int, promisc: bool, buffer_mb: int,
            workers: int) -> Any:
    from wardwatch.dissect.registry import Registry
    from wardwatch.pipeline.sources import LogSource, PcapFileSource

    if interface is not None:
        from wardwatch.capture.live import LiveOptions
        from wardwatch.pipeline.live import LiveSettings, LiveSource

        options = LiveOptions(interface=interface, bpf=bpf, snaplen=snaplen, promisc=promisc,
                              buffer_bytes=buffer_mb << 20)
        return LiveSource(LiveSettings(options=options, sensor=sensor_name, workers=workers, local_networks=local))
    if pcap is not None:
        return PcapFileSource(pcap, Registry.from_entry_points(), sensor_name, local_networks=local)
    path = zeek if zeek is not None else eve
    assert path is not None
    if not path.exists() and not follow:
        fail(f"no such file or folder: {path}")
    return LogSource([path], sensor_name, "zeek" if zeek is not None else "eve", follow=follow)


def _run_distributed(source: Any, sensor_settings: Any, stop: threading.Event, spool_dir: Path | None,
                     drain_timeout: float, deployment: str, options: Any) -> None:
    import platformdirs

    from wardwatch.pipeline.bus.jetstream import Connection, JetStreamPublisher
    from wardwatch.pipeline.bus.sender import SpoolSender
    from wardwatch.pipeline.sensor import Sensor, SpoolOutlet
    from wardwatch.pipeline.spool import IdSource, Spool

    folder = spool_dir or Path(platformdirs.user_data_dir("wardwatch")) / "spool" / sensor_settings.name
    spool = Spool(folder)

    async def connect() -> Any:
        conn = await Connection(options).open()
        return JetStreamPublisher(conn, deployment, sensor_settings.site)

    sender = SpoolSender(spool, connect).start()
    report = Sensor(sensor_settings, source, SpoolOutlet(spool, sender), IdSource(sensor_settings.name, folder)
                    ).run(stop)
    drained = sender.stop(drain_timeout)
    spool.close()
    err_console.print(f"sensor {sensor_settings.name}: {report.batches} batches, {report.observations} "
                      f"observations, {sender.sent} sent, counters {report.counters}"
                      + ("" if drained else f"; unsent batches stay in {folder}"), markup=False)


def _server_worker(url: str, deployment: str, options: Any, durable: str, ack_wait: float,
                   local: tuple[str, ...], server_settings: Any = None) -> None:
    """One server worker process (also used in-process for --workers 1); it also prunes the batch ledger
    (``[server] ledger_retention_days``, at most once per ``ledger_prune_interval``)."""
    from wardwatch.inventory.repository import Inventory
    from wardwatch.pipeline.bus.interface import BusUnavailable
    from wardwatch.pipeline.bus.jetstream import Connection, JetStreamSubscriber
    from wardwatch.pipeline.server import Applier, LedgerPruner, ServerSettings, consume

    inventory = Inventory.open(url, local_networks=local)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            try:
                conn = await Connection(options).open()
                subscriber = await JetStreamSubscriber(conn, deployment, durable=durable, ack_wait=ack_wait).start()
                break
            except BusUnavailable:
                await asyncio.sleep(0.5)
        else:
            return
        try:
            pruner = LedgerPruner.from_settings(inventory.engine, server_settings or ServerSettings())
            await consume(subscriber, Applier(inventory), stop, pruner=pruner)
        finally:
            await subscriber.close()

    try:
        asyncio.run(main())
    finally:
        inventory.close()


def server(
    ctx: typer.Context,
    nats: NatsOption = "nats://127.0.0.1:4222",
    deployment: DeploymentOption = "default",
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    durable: Annotated[str, typer.Option("--durable", help="Consumer group (durable consumer) name.")] = "servers",
    ack_wait: Annotated[float, typer.Option("--ack-wait", help="Seconds before an unacked batch is redelivered.")
                        ] = 30.0,
    nats_user: UserOption = None,
    nats_password: PasswordOption = None,
    nats_creds: CredsOption = None,
    nats_nkey: NkeyOption = None,
    tls_ca: TlsCaOption = None,
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    db: DbOption = None,
) -> None:
    """Consume the deployment's Observation batches into the inventory (Ctrl-C stops it)."""
    _check_name("deployment", deployment)
    _check_name("durable", durable)
    settings = settings_for(ctx, db)
    from wardwatch.inventory.repository import Inventory
    from wardwatch.pipeline.server import ServerSettings

    server_settings = ServerSettings.of(settings)  # an invalid [server] section stops here
    Inventory.open(settings.database_url).close()  # migrate once, before the workers race to
    options = _nats_options(nats or "nats://127.0.0.1:4222", "wardwatch-server", nats_user, nats_password,
                            nats_creds, _read_seed(nats_nkey), tls_ca, tls_cert, tls_key)
    args = (settings.database_url, deployment, options, durable, ack_wait, tuple(settings.identify.local_networks),
            server_settings)
    if workers == 1:
        _server_worker(*args)
        return
    mpctx = mp.get_context("spawn")
    procs = [mpctx.Process(target=_server_worker, args=args, name=f"wardwatch-server-{i}") for i in range(workers)]
    for proc in procs:
        proc.start()
    stop = threading.Event()
    _stop_on_signals(stop)
    while not stop.is_set() and any(p.is_alive() for p in procs):
        stop.wait(0.5)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(30)


def status(
    ctx: typer.Context,
    db: DbOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Sensors: lag (newest batch vs now), drops and last contact."""
    from rich.table import Table

    from wardwatch.cli.common import open_inventory, write_csv
    from wardwatch.pipeline.ledger import sensor_status

    inventory = open_inventory(ctx, db)
    try:
        with inventory.engine.connect() as conn:
            rows = sensor_status(conn)
    finally:
        inventory.close()
    now = time.time()
    data = [{"sensor": r.name, "site": r.site, "source": r.source, "lag_s": round(r.lag(now), 1),
             "last_contact_s": round(max(0.0, now - r.last_contact), 1), "batches": r.batches,
             "observations": r.observations, "packets": r.counters.get("packets", 0),
             "drops": r.counters.get("drops", 0) + r.counters.get("if_drops", 0),
             "spool_refused": r.counters.get("spool_refused", 0)} for r in rows]
    if output == OutputFormat.json:
        write_json(data)
        return
    columns = ["sensor", "site", "source", "lag_s", "last_contact_s", "batches", "observations", "packets", "drops",
               "spool_refused"]
    if output == OutputFormat.csv:
        write_csv(data, columns)
        return
    if not data:
        console.print("no sensor has reported yet")
        return
    table = Table(*columns)
    for row in data:
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)
app.command()(sensor)
app.command()(server)
app.command()(status)

if __name__ == "__main__":
    app()
