"""Figures of the firmware fuzz targets (firmware/fuzz/, libFuzzer + AddressSanitizer + UBSan): executions,
executions per second, coverage (libFuzzer's cov: edges and ft: features at the end), corpus growth and findings
per target, for a time or a number of executions per target.

    .venv/bin/python bench/bench_fuzz.py [--seconds 180 | --runs 10000000] [--out DIR] [link link_floor model]

Without --out every run starts from the seeds in a fresh folder (comparable figures); with --out the corpus of
an earlier run is kept and grown. Reproducers land in <out>/<target>/run/findings/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from edgeleak.firmware.fuzz import TARGETS, build_target, missing_toolchain, run_target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=int, help="fuzzing time per target (default 180)")
    budget.add_argument("--runs", type=int, help="executions per target (no time limit)")
    parser.add_argument("--out", type=Path, help="keep builds, corpora and findings here (default: a temporary folder)")
    args = parser.parse_args()
    problem = missing_toolchain()
    if problem:
        print(f"bench_fuzz: {problem}", file=sys.stderr)
        return 2
    seconds = None if args.runs else (args.seconds or 180)
    with tempfile.TemporaryDirectory(prefix="edgeleak-fuzz-") as tmp:
        out = args.out or Path(tmp)
        rows = []
        for name in args.targets:
            built = build_target(TARGETS[name], out / "build")
            result = run_target(built, out / name / "run", seconds=seconds, runs=args.runs)
            rows.append((name, result))
            found = ", ".join(p.name for p in result.findings) or ("none" if result.clean
                                                                   else f"exit {result.exit_code}")
            print(f"{name}: built in {built.seconds:.0f} s; {result.executions:,} executions in {result.seconds:.0f} s "
                  f"({result.execs_per_second:,.0f}/s); cov {result.cov}, ft {result.ft}; corpus {result.corpus_units} "
                  f"units ({result.new_units} new); findings: {found}", flush=True)
            if not result.clean:
                print(result.report, file=sys.stderr)
        print()
        print("| target | executions | exec/s | cov | ft | corpus | findings |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for name, r in rows:
            print(f"| {name} | {r.executions:,} | {r.execs_per_second:,.0f} | {r.cov} | {r.ft} | {r.corpus_units} | "
                  f"{len(r.findings) or 'none'} |")
        if args.out is None and any(r.findings for _, r in rows):
            print("bench_fuzz: rerun with --out DIR to keep the reproducers", file=sys.stderr)
    return 0 if all(r.clean for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
