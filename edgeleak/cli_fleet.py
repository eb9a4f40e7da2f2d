"""``edgeleak fleet``: boards on Flower (docs/fleet.md). superlink, node and bridge start the long-lived processes;
run submits a federated run and follows it; simulate runs a fleet of host boards on Flower's Simulation Engine."""

from __future__ import annotations

import secrets
import signal
import socket
import sys
import time
from pathlib import Path

from edgeleak.errors import EdgeleakError

DEFAULT_HOME = ".edgeleak-fleet"
HOME_HELP = f"Flower's home directory for this fleet: its connection file, apps, logs (default {DEFAULT_HOME})"


def _tls(args):
    from edgeleak.fleet.processes import Tls

    if not getattr(args, "tls_ca", None):
        if getattr(args, "tls_cert", None) or getattr(args, "tls_key", None):
            raise EdgeleakError("--tls-cert and --tls-key need --tls-ca")
        return None
    paths = [Path(p) for p in (args.tls_ca, getattr(args, "tls_cert", None), getattr(args, "tls_key", None)) if p]
    for p in paths:
        if not p.is_file():
            raise EdgeleakError(f"TLS file {p} does not exist")
    return Tls(Path(args.tls_ca).resolve(), Path(args.tls_cert).resolve() if getattr(args, "tls_cert", None) else None,
               Path(args.tls_key).resolve() if getattr(args, "tls_key", None) else None)


def _check_loopback_or_tls(host: str, tls) -> None:
    if tls is None and host not in ("127.0.0.1", "localhost", "::1"):
        raise EdgeleakError(f"{host} is not loopback: give --tls-ca, --tls-cert and --tls-key (docs/fleet.md, TLS)")


def _hold(procs: list, names: list[str]) -> int:
    """Wait until SIGINT or SIGTERM, or until the last process (the SuperLink or SuperNode) exits; say when a child
    dies; stop every child (by PID) on the way out."""
    from edgeleak.fleet.processes import stop

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    reported = set()
    try:
        while not stopping:
            for proc, name in zip(procs, names):
                if proc.poll() is not None and proc.pid not in reported:
                    reported.add(proc.pid)
                    print(f"edgeleak: {name} (pid {proc.pid}) exited with {proc.returncode}", file=sys.stderr, flush=True)
            if procs[-1].poll() is not None:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for proc in reversed(procs):
        stop(proc)
    return 1 if not stopping and procs[-1].returncode not in (0, -15, None) else 0


def cmd_superlink(args) -> int:
    from edgeleak.fleet.processes import (exit_on_sigterm, flower_env, start, stop, superlink_command, wait_port,
                                          write_connection)

    tls = _tls(args)
    _check_loopback_or_tls(args.host, tls)
    home = Path(args.home).resolve()
    cmd = superlink_command(args.host, args.port, tls=tls, simulation=args.simulation)
    log = home / "logs" / f"superlink-{args.port}.log"
    exit_on_sigterm()
    proc = start(cmd, flower_env(home), log)
    address = f"{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    try:
        wait_port(address.rsplit(":", 1)[0], args.port, proc, log)
        write_connection(home, args.connection, address, tls=tls)
    except BaseException:
        stop(proc)
        raise
    print(f"SuperLink on {args.host}:{args.port} (pid {proc.pid}; log {log}); connection '{args.connection}' in "
          f"{home / 'config.toml'}", flush=True)
    return _hold([proc], ["SuperLink"])


def cmd_bridge(args) -> int:
    from edgeleak.cli_privacy import _boards, _floor
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.fleet.bridge import parse_address, serve

    board = _boards(args).get(args.board)
    floor = _floor(args, board)
    model = load_model_dir(Path(args.model))
    ports = list(args.port or []) or [None] * args.count
    flags = tuple(args.build_flag) + (floor.to_build_flags() if floor else ())
    serve(board, model, parse_address(args.listen), ports=ports, build_flags=flags,
          ready=lambda line: print(line, flush=True))
    return 0


def _free_port(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: a closed port in TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError:
            raise EdgeleakError(f"port {host}:{port} is busy; choose another with --bridge-port/--runtime-port") from None


def bridge_command(args, board: str, model: Path, address: str, *, ports: list[str] = (), count: int = 1) -> list[str]:
    """``edgeleak fleet bridge`` with this command's boards file, build flags and floor options."""
    from edgeleak.fleet.processes import bin_path

    cmd = [bin_path("edgeleak"), *(["--boards", str(Path(args.boards).resolve())] if args.boards else []),
           "fleet", "bridge", "--board", board, "--model", str(model.resolve()), "--listen", address,
           *[f"--build-flag={f}" for f in getattr(args, "build_flag", [])]]
    cmd += [a for p in ports for a in ("--port", p)] or ["--count", str(count)]
    if getattr(args, "floor_epsilon", None):
        cmd += ["--floor-epsilon", repr(args.floor_epsilon)]
    if getattr(args, "floor_delta", None):
        cmd += ["--floor-delta", repr(args.floor_delta)]
    return cmd + (["--no-floor"] if getattr(args, "no_floor", False) else [])


def cmd_node(args) -> int:
    from edgeleak.cli_privacy import _boards
    from edgeleak.fleet.bridge import KEY_ENV
    from edgeleak.fleet.processes import (exit_on_sigterm, flower_env, node_config, start, stop, supernode_command,
                                          wait_for_line)

    tls = _tls(args)
    _check_loopback_or_tls(args.superlink.rpartition(":")[0], tls)
    board = _boards(args).get(args.board)
    if not Path(args.model).is_dir():
        raise EdgeleakError(f"{args.model} is not a model directory")
    ports = list(args.port or [])
    if board.kind == "serial" and not ports:
        raise EdgeleakError(f"{board.name} is a real board: give each one's --port")
    count = len(ports) or args.count
    home = Path(args.home).resolve()
    env = flower_env(home, {KEY_ENV: secrets.token_hex(32)})
    bridges = [f"127.0.0.1:{args.bridge_port + k}" for k in range(count)]
    for b in bridges:
        _free_port("127.0.0.1", int(b.rsplit(":", 1)[1]))
    _free_port("127.0.0.1", args.runtime_port)
    procs, names = [], []
    exit_on_sigterm()
    try:
        for k, address in enumerate(bridges):
            cmd = bridge_command(args, board.name, Path(args.model), address, ports=ports[k:k + 1])
            log = home / "logs" / f"bridge-{args.name}-{k}.log"
            procs.append(start(cmd, env, log))
            names.append(f"bridge {k} ({address})")
            print(wait_for_line(log, "ready on", procs[-1], args.ready_timeout), flush=True)
        log = home / "logs" / f"supernode-{args.name}.log"
        config = node_config(args.name, bridges, require_secagg=args.require_secagg)
        cmd = supernode_command(args.superlink, args.runtime_port, config, tls=tls)
        procs.append(start(cmd, env, log))
        names.append("SuperNode")
        wait_for_line(log, "Starting Flower SuperNode", procs[-1], 60)
    except BaseException:
        for proc in reversed(procs):
            stop(proc)
        raise
    print(f"SuperNode '{args.name}' (pid {procs[-1].pid}) to {args.superlink} with {count} x {board.name}; "
          f"bridges {', '.join(f'{b} pid {p.pid}' for b, p in zip(bridges, procs))}", flush=True)
    return _hold(procs, names)


def add_fleet_parsers(sub) -> None:
    from edgeleak.cli_fleet_run import add_run_parsers
    from edgeleak.cli_privacy import _add_floor_options

    p = sub.add_parser("fleet", help="boards on Flower: a SuperLink, SuperNodes that drive boards through bridges, runs "
                       "captured by a curious ServerApp (docs/fleet.md)")
    fsub = p.add_subparsers(dest="fleet_command", required=True, metavar="SUBCOMMAND")

    q = fsub.add_parser("superlink", help="start a Flower SuperLink offline (no run-time installs, no telemetry) and hold it")
    q.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1; anything else needs TLS)")
    q.add_argument("--port", type=int, default=8000, help="Fleet, Control and Runtime APIs on this port (default 8000)")
    q.add_argument("--connection", default="fleet", help="name of the connection written for flwr (default fleet)")
    q.add_argument("--simulation", action="store_true", help="a SuperLink for the Simulation Engine (fleet simulate)")
    q.add_argument("--home", default=DEFAULT_HOME, help=HOME_HELP)
    _add_tls_options(q, server=True)
    q.set_defaults(func=cmd_superlink)

    q = fsub.add_parser("node", help="start this host's bridges (one per board) and its SuperNode, and hold them")
    q.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    q.add_argument("--model", required=True, help="directory written by 'edgeleak quantize' (the boards run it)")
    q.add_argument("--name", default=socket.gethostname(), help="the node's name; the fleet numbers its devices by node "
                   "name, then board (default: the host name)")
    q.add_argument("--port", action="append", metavar="URL", help="serial port URL of a board, repeatable: one bridge "
                   "per port (real boards, or boards started elsewhere)")
    q.add_argument("--count", type=int, default=2, help="emulated or host boards to start when no --port (default 2)")
    q.add_argument("--superlink", default="127.0.0.1:8000", help="the SuperLink's HOST:PORT (default 127.0.0.1:8000)")
    q.add_argument("--runtime-port", type=int, default=9094, help="the SuperNode's own API port (default 9094; one per node)")
    q.add_argument("--bridge-port", type=int, default=7100, help="first bridge port on 127.0.0.1 (default 7100)")
    q.add_argument("--build-flag", action="append", default=[], metavar="FLAG", help="compiler flag for boards built here")
    q.add_argument("--require-secagg", action="store_true", help="train only in runs behind secure aggregation: a "
                   "plain run gets every board refused (the server chooses the app; the node's owner sets this)")
    q.add_argument("--ready-timeout", type=float, default=300, help="seconds a bridge may take to build and open its board")
    q.add_argument("--home", default=DEFAULT_HOME, help=HOME_HELP)
    _add_floor_options(q)
    _add_tls_options(q, server=False)
    q.set_defaults(func=cmd_node)

    q = fsub.add_parser("bridge", help="own one board (or several) and run rounds on it for the node's ClientApps "
                        "(loopback only; started by fleet node)")
    q.add_argument("--board", help="board name from boards.yaml (default: the default board)")
    q.add_argument("--model", required=True, help="directory written by 'edgeleak quantize'")
    q.add_argument("--listen", required=True, metavar="HOST:PORT", help="address to answer on (the key is in EDGELEAK_BRIDGE_KEY)")
    q.add_argument("--port", action="append", metavar="URL", help="serial port URL of a board, repeatable")
    q.add_argument("--count", type=int, default=1, help="emulated or host boards to start when no --port (default 1)")
    q.add_argument("--build-flag", action="append", default=[], metavar="FLAG", help="compiler flag for boards built here")
    _add_floor_options(q)
    q.set_defaults(func=cmd_bridge)

    add_run_parsers(fsub, home_default=DEFAULT_HOME, home_help=HOME_HELP)


def _add_tls_options(q, *, server: bool) -> None:
    g = q.add_argument_group("TLS", "required beyond loopback (docs/fleet.md, TLS)")
    g.add_argument("--tls-ca", metavar="FILE", help="the CA certificate the SuperLink's certificate is signed with")
    if server:
        g.add_argument("--tls-cert", metavar="FILE", help="the SuperLink's certificate")
        g.add_argument("--tls-key", metavar="FILE", help="the SuperLink's private key")
