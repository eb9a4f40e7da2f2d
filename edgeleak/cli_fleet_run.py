"""``edgeleak fleet run`` and ``fleet simulate``: submit a federated run to a SuperLink and follow it to its end."""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path

from edgeleak.errors import EdgeleakError


def _plan(args, *, devices: int, nodes: int, aggregation: str, curious: str | None):
    from edgeleak.cli_training import train_config
    from edgeleak.data.spec import source_from_args
    from edgeleak.device.model_dir import load_model_dir
    from edgeleak.fl.session import SessionPlan
    from edgeleak.fleet.plan import FleetPlan
    from edgeleak.privacy.floor import resolve_floor

    model = load_model_dir(Path(args.model))
    source = source_from_args(args, model.dataset)
    floor = resolve_floor(None, epsilon=args.floor_epsilon, delta=args.floor_delta, disabled=False)
    session = SessionPlan(devices=devices, rounds=args.rounds, config=train_config(args), partition=args.partition,
                          samples_per_round=args.samples, seed=args.seed, floor=floor,
                          participants=getattr(args, "participants", None), craft=getattr(args, "craft", None))
    return FleetPlan(model_dir=model.path.resolve(), dataset=source, session=session, out=Path(args.out).resolve(),
                     nodes=nodes, aggregation=aggregation, curious_attack=curious, round_timeout=args.round_timeout)


def _fresh_out(plan) -> None:
    """A fleet run writes a new capture: an earlier one in the same directory would be mixed with it."""
    if plan.out.exists() and any(plan.out.iterdir()):
        raise EdgeleakError(f"{plan.out} is not empty; choose a new --out for this run's capture")


def follow(connection: str, run_id: int, plan, home: Path, *, poll: float = 2.0) -> dict:
    """Wait for the run to end, showing its rounds; return its summary, or raise with why it failed."""
    from tqdm import tqdm

    from edgeleak.fleet.fleet_run import SUMMARY_FILE
    from edgeleak.fleet.processes import flwr, run_status

    summary_path = plan.out / SUMMARY_FILE
    bar = tqdm(total=plan.session.rounds, unit="round", desc=f"fleet run {run_id}", disable=None)
    status, summary = "pending", {}
    try:
        while True:
            status = run_status(connection, run_id, home)
            if summary_path.exists():
                try:
                    summary = json.loads(summary_path.read_text())
                except json.JSONDecodeError:
                    pass
                done = len(summary.get("rounds", []))
                if done > bar.n:
                    last = summary["rounds"][-1]
                    bar.set_postfix(accuracy=f"{last['accuracy']:.3f}", failed=len(last["failed"]))
                    bar.update(done - bar.n)
            if status.startswith("finished"):
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        bar.close()
        print(f"edgeleak: stopping run {run_id}", file=sys.stderr, flush=True)
        flwr(["stop", str(run_id), connection], home, timeout=60.0)
        raise
    finally:
        bar.close()
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
    if status != "finished:completed" or summary.get("status") != "finished":
        why = summary.get("error") or f"the run ended {status}; see: flwr log {run_id} {connection} --show"
        raise EdgeleakError(f"fleet run {run_id} failed: {why}")
    if len(summary.get("rounds", [])) != plan.session.rounds:
        raise EdgeleakError(f"fleet run {run_id} ended after {len(summary.get('rounds', []))} of {plan.session.rounds} rounds")
    return summary


def report(summary: dict, out: Path, seconds: float) -> None:
    rounds = summary["rounds"]
    print(f"{summary['updates']} updates from {summary['devices']} boards on {len(summary['nodes'])} nodes over "
          f"{len(rounds)} rounds in {seconds:.1f} s ({summary['aggregation']} aggregation"
          f"{': the server saw only each round sum' if summary['aggregation'] == 'secagg+' else ''})")
    print(f"  global accuracy {summary['initial_accuracy']:.3f} -> {rounds[-1]['accuracy']:.3f}")
    failed = [(r["round"], f) for r in rounds for f in r["failed"]]
    for r, f in failed:
        print(f"  round {r}: device {f['device']} left out: {f['error']}")
    print(f"wrote {out}")


def cmd_run(args) -> int:
    from edgeleak.fleet.plan import write_plan
    from edgeleak.fleet.processes import submit

    home = Path(args.home).resolve()
    if not (home / "config.toml").exists():
        raise EdgeleakError(f"no Flower connection in {home}; start 'edgeleak fleet superlink --home {args.home}' first")
    plan = _plan(args, devices=args.devices, nodes=args.nodes, aggregation="secagg+" if args.secagg else "plain",
                 curious=args.curious)
    plan_file = plan.out.with_name(plan.out.name + ".plan.json")
    write_plan(plan, plan_file)
    _fresh_out(plan)
    started = time.perf_counter()
    run_id = submit(args.connection, plan_file, home, secagg=args.secagg)
    print(f"submitted run {run_id} to '{args.connection}'", file=sys.stderr, flush=True)
    report(follow(args.connection, run_id, plan, home), plan.out, time.perf_counter() - started)
    return 0


def cmd_simulate(args) -> int:
    from edgeleak.fleet.bridge import KEY_ENV
    from edgeleak.fleet.plan import write_plan
    from edgeleak.cli_fleet import bridge_command
    from edgeleak.fleet.processes import (exit_on_sigterm, flower_env, start, stop, submit, superlink_command,
                                          wait_for_line, wait_port, write_connection)

    if args.devices < 1:
        raise EdgeleakError("--devices must be at least 1")
    home = Path(args.home).resolve()
    plan = _plan(args, devices=args.devices, nodes=args.devices, aggregation="plain", curious=args.curious)
    plan_file = plan.out.with_name(plan.out.name + ".plan.json")
    write_plan(plan, plan_file)
    _fresh_out(plan)
    env = flower_env(home, {KEY_ENV: secrets.token_hex(32)})
    bridge = f"127.0.0.1:{args.bridge_port}"
    procs = []
    started = time.perf_counter()
    exit_on_sigterm()
    try:
        log = home / "logs" / "sim-bridge.log"
        procs.append(start(bridge_command(args, args.board, plan.model_dir, bridge, count=args.devices), env, log))
        print(wait_for_line(log, "ready on", procs[-1], 600).split(" ready on")[0][:120] + " ...", file=sys.stderr)
        log = home / "logs" / "sim-superlink.log"
        procs.append(start(superlink_command("127.0.0.1", args.superlink_port, tls=None, simulation=True), env, log))
        wait_port("127.0.0.1", args.superlink_port, procs[-1], log)
        write_connection(home, "simulation", f"127.0.0.1:{args.superlink_port}", tls=None)
        federation = f"num-supernodes={args.devices} client-resources-num-cpus={args.cpus_per_client:g}"
        run_id = submit("simulation", plan_file, home, sim_bridge=bridge, federation=federation)
        summary = follow("simulation", run_id, plan, home)
    finally:
        for proc in reversed(procs):
            stop(proc)
    seconds = time.perf_counter() - started
    report(summary, plan.out, seconds)
    per_round = [r["seconds"] for r in summary["rounds"]]
    print(f"  {60.0 * len(per_round) / sum(per_round):.1f} rounds per minute ({sum(per_round) / len(per_round):.1f} s "
          f"per round of {args.devices} simulated boards)")
    return 0


def _common(q, home_default: str, home_help: str) -> None:
    from edgeleak.cli_training import add_training_options

    q.add_argument("--model", required=True, help="directory written by 'edgeleak quantize' (on the server's machine)")
    q.add_argument("--out", required=True, help="capture directory to write (on the server's machine)")
    add_training_options(q)
    q.add_argument("--seed", type=int, default=0, help="seed of the partition and of the picks (default 0)")
    q.add_argument("--curious", metavar="ATTACK", help="run this attack inside the ServerApp on each round's updates "
                   "(results in OUT/curious.jsonl; 'edgeleak attacks' lists them)")
    q.add_argument("--round-timeout", type=float, default=600.0, help="seconds the server waits for a round (default 600)")
    q.add_argument("--floor-epsilon", type=float, metavar="E", help="require every board to report this floor")
    q.add_argument("--floor-delta", type=float, metavar="D", help="delta of the required floor (default 1e-5)")
    q.add_argument("--home", default=home_default, help=home_help)


def add_run_parsers(fsub, *, home_default: str, home_help: str) -> None:
    q = fsub.add_parser("run", help="submit a federated run to the fleet's SuperLink, follow it, write the capture")
    q.add_argument("--nodes", type=int, required=True, help="SuperNodes the run waits for")
    q.add_argument("--devices", type=int, required=True, help="boards the nodes drive in all (checked when the run starts)")
    q.add_argument("--participants", type=int, help="boards the server picks each round (default: all)")
    q.add_argument("--secagg", action="store_true", help="Flower's SecAgg+: the server sees only each round's sum "
                   "(captured as aggregates for 'edgeleak attack --aggregate'; needs 2+ nodes)")
    q.add_argument("--craft", choices=["imprint"], help="play a malicious server: send crafted weights (docs/attacks.md)")
    q.add_argument("--connection", default="fleet", help="Flower connection in HOME/config.toml (default fleet)")
    _common(q, home_default, home_help)
    q.set_defaults(func=cmd_run)

    q = fsub.add_parser("simulate", help="a fleet of host boards on Flower's Simulation Engine (Ray) on this machine")
    q.add_argument("--devices", type=int, default=64, help="simulated boards, one virtual SuperNode each (default 64)")
    q.add_argument("--board", default="host", help="board of the simulated devices (default host)")
    q.add_argument("--cpus-per-client", type=float, default=1.0, help="Ray CPUs per ClientApp (default 1)")
    q.add_argument("--superlink-port", type=int, default=9200, help="the simulation SuperLink's port (default 9200)")
    q.add_argument("--bridge-port", type=int, default=7300, help="the boards' bridge port (default 7300)")
    _common(q, home_default, home_help)
    q.set_defaults(func=cmd_simulate)
