"""Figures of the fleet on Flower: seconds per round for N boards through Flower (a SuperLink and two SuperNodes on
loopback, half the boards each) against ``edgeleak train`` on the same boards; bytes per update on the wire through
Flower; and a simulated fleet of host boards on Flower's Simulation Engine (devices, rounds per minute).

    .venv/bin/python bench/bench_fleet.py [--board mps2-an386] [--boards 2,4,8] [--rounds 3] [--simulate 64,128]

Every process is started as a user starts it (edgeleak fleet ...) and stopped by PID. Rounds: batch 1, 4 samples
per board and round, mlp on BasicMotions (digits for the simulation, whose 1,347 training windows stretch to 128
devices). The first round of each run is left out of the per-round figure (it includes the nodes' first ClientApp
start-up); both columns are the mean of the remaining rounds.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EDGELEAK = str(Path(sys.executable).parent / "edgeleak")
TRAIN = ["--batch", "1", "--samples", "4", "--lr", "0.05"]


def _run(*args: str) -> str:
    done = subprocess.run([EDGELEAK, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"edgeleak {' '.join(args[:2])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def _start(args: list[str], log: Path, ready: str, timeout: float = 900) -> subprocess.Popen:
    proc = subprocess.Popen([EDGELEAK, *args], stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while ready not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{args[:2]} did not start: {log.read_text()[-500:]}")
        time.sleep(0.3)
    return proc


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def _per_round(capture: Path) -> tuple[float, float]:
    """Mean seconds per round after the first, and Flower bytes per update, from fleet-summary.json."""
    rounds = json.loads((capture / "fleet-summary.json").read_text())["rounds"]
    later = rounds[1:] or rounds
    updates = sum(r["updates"] for r in rounds)
    return sum(r["seconds"] for r in later) / len(later), sum(r["flower_bytes"] for r in rounds) / max(updates, 1)


def _train_per_round(out: str) -> float:
    from edgeleak.capture.records import read_records
    from edgeleak.capture.store import UPDATES_FILE

    # edgeleak train's rounds: the time between the last updates of consecutive rounds
    times = [r.meta for r in read_records(Path(out) / UPDATES_FILE, "updates") if r.meta.get("type") == "update"]
    by_round: dict[int, float] = {}
    for m in times:
        by_round[m["meta"]["round"]] = max(by_round.get(m["meta"]["round"], 0.0), m["received_at"])
    ends = [by_round[r] for r in sorted(by_round)]
    gaps = [b - a for a, b in zip(ends, ends[1:])]
    return sum(gaps) / len(gaps)


def bench_deployment(model: Path, board: str, counts: list[int], rounds: int, work: Path) -> None:
    print(f"{'boards':>6} {'flower s/round':>15} {'train s/round':>14} {'overhead':>9} {'bytes/update':>13}")
    for n in counts:
        home = work / f"home{n}"
        home.mkdir()
        procs = []
        try:
            link = 8200 + n  # fresh ports for every fleet size: the last one's may still be closing
            procs.append(_start(["fleet", "superlink", "--port", str(link), "--home", str(home)], home / "sl.out", "SuperLink on"))
            for k, name in enumerate(("a", "b")):
                procs.append(_start(["fleet", "node", "--board", board, "--model", str(model), "--name", name,
                                     "--count", str(n // 2), "--bridge-port", str(7800 + 100 * n + 20 * k), "--runtime-port",
                                     str(9300 + 10 * n + k), "--superlink", f"127.0.0.1:{link}", "--home", str(home)],
                                    home / f"{name}.out", "SuperNode '"))
            out = work / f"fleet{n}"
            _run("fleet", "run", "--home", str(home), "--model", str(model), "--out", str(out), "--nodes", "2",
                 "--devices", str(n), "--rounds", str(rounds), *TRAIN)
        finally:
            _stop(procs)
        flower, per_update = _per_round(out)
        _run("train", "--board", board, "--model", str(model), "--devices", str(n), "--rounds", str(rounds), *TRAIN,
             "--out", str(work / f"train{n}"))
        train = _train_per_round(str(work / f"train{n}"))
        print(f"{n:>6} {flower:>15.2f} {train:>14.2f} {flower / train:>8.1f}x {per_update:>13,.0f}", flush=True)


def bench_simulation(model: Path, counts: list[int], rounds: int, work: Path) -> None:
    print(f"\n{'simulated devices':>17} {'s/round':>8} {'rounds/min':>11} {'wall s':>7}")
    for n in counts:
        started = time.perf_counter()
        out = work / f"sim{n}"
        _run("fleet", "simulate", "--home", str(work / f"simhome{n}"), "--model", str(model), "--dataset", "digits",
             "--out", str(out), "--devices", str(n), "--rounds", str(rounds), *TRAIN)
        per_round, _ = _per_round(out)
        print(f"{n:>17} {per_round:>8.2f} {60 / per_round:>11.1f} {time.perf_counter() - started:>7.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", default="mps2-an386")
    parser.add_argument("--boards", default="2,4,8", help="fleet sizes through Flower, comma-separated (even)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--simulate", default="64,128", help="simulated fleet sizes, comma-separated ('' for none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _run("quantize", "--model", "mlp", "--out", str(work / "mlp"))
        bench_deployment(work / "mlp", args.board, [int(n) for n in args.boards.split(",")], args.rounds, work)
        if args.simulate:
            _run("quantize", "--model", "mlp", "--dataset", "digits", "--out", str(work / "mlp-digits"))
            bench_simulation(work / "mlp-digits", [int(n) for n in args.simulate.split(",")], args.rounds, work)


if __name__ == "__main__":
    main()
