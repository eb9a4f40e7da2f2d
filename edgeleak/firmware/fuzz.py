"""Coverage-guided fuzzing of the firmware core with clang's libFuzzer, AddressSanitizer and UBSan.

    built = build_target(TARGETS["link"], work_dir)             # clang -fsanitize=fuzzer,address,undefined
    result = run_target(built, work_dir / "run", seconds=60)    # FuzzResult: executions, exec/s, cov, ft, findings

Targets (sources in firmware/fuzz/, seeds and dictionaries from edgeleak.firmware.fuzz_corpus):

- ``link``: every byte a server can send, through COBS, CRC, chunk reassembly and every message handler, into
  the device core with a trainable model compiled in (a testing build: host seeds accepted; a 239-parameter head);
- ``link_floor``: the same in a build with a privacy floor (``EL_FLOOR_EPSILON=8``, not a testing build) and a
  1,157-parameter head, whose LOAD_WEIGHTS (4,628 B) is larger than the 1,024-byte link buffer;
- ``model``: the model artifact loader, and the kernels on every artifact it accepts.

tests/engine/test_fuzz.py runs each target for a bounded slice; bench/bench_fuzz.py runs them longer.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from edgeleak.errors import EdgeleakError
from edgeleak.firmware.fuzz_corpus import (LINK_MODEL_HIDDEN, TargetInputs, every_op_model, write_link_inputs,
                                           write_model_inputs)
from edgeleak.firmware.pio_offline import FIRMWARE_DIR

SRC = FIRMWARE_DIR / "src"
FUZZ_DIR = FIRMWARE_DIR / "fuzz"

CFLAGS = ("-std=c99", "-g", "-O1", "-fno-omit-frame-pointer", "-fsanitize=fuzzer,address,undefined",
          "-fno-sanitize-recover=all", "-Wall", "-Wextra")
LINK_DEFINES = {"EL_BOARD_NAME": '"fuzz"', "EL_FW_VERSION": '"0.1.0"'}

WRAP_CRC = ("-Wl,--wrap=el_crc32",)
"""The core's bitwise CRC-32 replaced by a table over the same bytes (el_fuzz_crc32.c); fuzz_link.c also remembers
the CRC of the compiled-in artifact, which el_app_init() recomputes at every input."""

LINK_NO_CMP_TRACING = ("engine/*.c", "train/el_chacha20.c", "train/el_prng.c", "train/el_dgauss.c")
"""Compiled without libFuzzer's comparison tracing in the link targets (still with coverage and sanitizers): the
compiled-in model is constant and the noise comes from the PRNG, so tracing their comparisons (every loop bound of
a kernel, every round of ChaCha20) would only slow an input down, by about half."""

HARNESS_ONLY = ("fuzz_link_mutator.c", "el_fuzz_crc32.c")
"""Harness code that is no part of the target: compiled without coverage, so that it adds no features."""

FINDING_PREFIXES = ("crash-", "leak-", "timeout-", "oom-")


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    harness: str  # file in firmware/fuzz/
    source_dirs: tuple[str, ...]  # folders of firmware/src/ compiled whole
    extra_sources: tuple[str, ...]  # single files of firmware/src/
    defines: tuple[tuple[str, str], ...]
    max_len: int
    link_hidden: tuple[int, ...] | None = None  # the compiled-in model's hidden layers (link targets), else None
    link_flags: tuple[str, ...] = ()
    no_cmp_tracing: tuple[str, ...] = ()  # globs in firmware/src/

    def inputs(self, out: Path) -> TargetInputs:
        if self.link_hidden is None:
            return write_model_inputs(out)
        return write_link_inputs(out, every_op_model(hidden=self.link_hidden))


TARGETS = {
    # P = 239: LOAD_WEIGHTS (956 B) is joined into d, every other message into the 1,024-byte link buffer. The
    # compute cap (example-parameter products per round) also bounds the discrete Gaussian draws of a DP-SGD round,
    # most of a noisy round's time: 4,096 keeps a round within a few milliseconds (17 examples of 239 parameters).
    "link": FuzzTarget("link", "fuzz_link.c", ("app", "proto", "engine", "train"), (),
                       tuple({**LINK_DEFINES, "EL_TESTING_BUILD": "1", "EL_MAX_ROUND_WORK": "4096"}.items()),
                       8192, (13,), WRAP_CRC, LINK_NO_CMP_TRACING),
    # P = 1,157: LOAD_WEIGHTS (4,628 B) spans several chunks into d, beyond the link buffer; a floor
    # of epsilon 8, so every release is noisy and charged to the budget
    "link_floor": FuzzTarget("link_floor", "fuzz_link.c", ("app", "proto", "engine", "train"), (),
                             tuple({**LINK_DEFINES, "EL_FLOOR_EPSILON": "8", "EL_TESTING_BUILD": "0",
                                    "EL_MAX_ROUND_WORK": "8192"}.items()), 16384, LINK_MODEL_HIDDEN, WRAP_CRC,
                             LINK_NO_CMP_TRACING),
    "model": FuzzTarget("model", "fuzz_model.c", ("engine",), ("train/el_head.c",), (), 8192, None, WRAP_CRC),
}


@dataclass(frozen=True)
class BuiltTarget:
    target: FuzzTarget
    binary: Path
    inputs: TargetInputs
    seconds: float


@dataclass(frozen=True)
class FuzzResult:
    target: str
    executions: int
    execs_per_second: float
    cov: int  # libFuzzer's "cov:": instrumented edges reached
    ft: int  # libFuzzer's "ft:": features (edges with hit-count buckets, comparisons)
    corpus_units: int
    new_units: int
    seconds: float
    findings: tuple[Path, ...]  # reproducers (crash-*, leak-*, timeout-*, oom-*) in the artifact folder
    exit_code: int  # libFuzzer's: 0 when the time or the runs ran out without a finding
    log: str

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and not self.findings

    @property
    def report(self) -> str:
        """The sanitizer's or the checker's report, with its stack, from its first line ("" when clean)."""
        if self.clean:
            return ""
        found = [i for i in (self.log.find(m) for m in ("runtime error:", "==ERROR:", "el_port_fuzz:",
                                                           "ALARM: working on", "out-of-memory")) if i >= 0]
        start = self.log.rfind("\n", 0, min(found)) + 1 if found else max(0, len(self.log) - 6000)
        return self.log[start:start + 8000]


def find_clang() -> str | None:
    for name in ("clang", "clang-14", "clang-15", "clang-16", "clang-17", "clang-18", "clang-19"):
        path = shutil.which(name)
        if path:
            return path
    return None


def fuzzer_runtime(clang: str) -> Path | None:
    """libFuzzer's runtime library of this clang (Debian: libclang-rt-<N>-dev), or None."""
    arch = platform.machine()
    name = f"libclang_rt.fuzzer-{arch}.a"
    out = subprocess.run([clang, f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    path = Path(out)
    if path.is_absolute() and path.exists():
        return path
    resource = subprocess.run([clang, "-print-resource-dir"], capture_output=True, text=True).stdout.strip()
    for candidate in (Path(resource) / "lib" / "linux" / name,
                      Path(resource) / "lib" / f"{arch}-unknown-linux-gnu" / "libclang_rt.fuzzer.a"):
        if candidate.exists():
            return candidate
    return None


def missing_toolchain() -> str | None:
    """Why the fuzz targets cannot be built here, or None when they can."""
    clang = find_clang()
    if clang is None:
        return "clang is not installed (Debian: apt-get install --no-install-recommends clang libclang-rt-dev)"
    if fuzzer_runtime(clang) is None:
        return f"{clang} has no libFuzzer runtime (Debian: apt-get install --no-install-recommends libclang-rt-dev)"
    return None


def _sources(target: FuzzTarget) -> list[Path]:
    files = [p for d in target.source_dirs for p in sorted((SRC / d).glob("*.c"))]
    files += [SRC / f for f in target.extra_sources]
    files.append(FUZZ_DIR / "el_fuzz_crc32.c")
    if target.link_hidden is not None:
        files += [FUZZ_DIR / "el_port_fuzz.c", FUZZ_DIR / "fuzz_link_mutator.c"]
    files.append(FUZZ_DIR / target.harness)
    return files


def build_target(target: FuzzTarget, work: Path, *, clang: str | None = None, jobs: int = 2) -> BuiltTarget:
    """Write the target's model, seeds and dictionary under ``work/<name>/`` and build ``work/<name>/fuzz_<name>``."""
    clang = clang or find_clang()
    problem = missing_toolchain() if clang is None or fuzzer_runtime(clang) is None else None
    if problem:
        raise EdgeleakError(problem)
    start = time.perf_counter()
    out = work / target.name
    objects_dir = out / "obj"
    objects_dir.mkdir(parents=True, exist_ok=True)
    inputs = target.inputs(out)
    sources = _sources(target) + ([inputs.model_c] if inputs.model_c else [])
    flags = [*CFLAGS, f"-I{SRC}", f"-I{FUZZ_DIR}", *(f"-D{k}={v}" for k, v in target.defines)]
    objects = [objects_dir / f"{k:02d}_{src.stem}.o" for k, src in enumerate(sources)]
    pending = list(zip(sources, objects))
    quiet_files = {p for pattern in target.no_cmp_tracing for p in SRC.glob(pattern)}
    running: list[tuple[subprocess.Popen, Path]] = []
    errors = []
    while pending or running:
        while pending and len(running) < max(1, jobs):
            src, obj = pending.pop(0)
            quiet = (["-fno-sanitize-coverage=trace-cmp"] if src in quiet_files
                     else ["-fno-sanitize=fuzzer"] if src.name in HARNESS_ONLY else [])
            running.append((subprocess.Popen([clang, *flags, *quiet, "-c", str(src), "-o", str(obj)],
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), src))
        proc, src = running.pop(0)
        output = proc.communicate()[0]
        if proc.returncode != 0:
            errors.append(f"{src.name}:\n{output}")
    if errors:
        raise EdgeleakError(f"the fuzz target {target.name} does not compile:\n" + "\n".join(errors)[-6000:])
    binary = out / f"fuzz_{target.name}"
    link = subprocess.run([clang, *CFLAGS, *target.link_flags, "-o", str(binary), *map(str, objects), "-lm"],
                          capture_output=True, text=True)
    if link.returncode != 0:
        raise EdgeleakError(f"the fuzz target {target.name} does not link:\n{link.stderr[-6000:]}")
    return BuiltTarget(target, binary, inputs, time.perf_counter() - start)


_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.MULTILINE)
_STAT = re.compile(r"^stat::(\w+):\s*(\d+)", re.MULTILINE)


def parse_log(log: str) -> dict[str, int]:
    """libFuzzer's last status line (cov, ft, corpus units) and its final stats (-print_final_stats=1)."""
    figures: dict[str, int] = {}
    status = _STATUS.findall(log)
    if status:
        runs, cov, ft, corp = status[-1]
        figures.update(runs=int(runs), cov=int(cov), ft=int(ft), corp=int(corp))
    for key, value in _STAT.findall(log):
        figures[key] = int(value)
    return figures


def run_target(built: BuiltTarget, work: Path, *, seconds: int | None = 60, runs: int | None = None,
               timeout_per_input: int = 25, extra_args: tuple[str, ...] = ()) -> FuzzResult:
    """Fuzz for ``seconds`` (or ``runs`` executions) from the seeds; new units go to ``work/corpus``, findings to
    ``work/findings``. Stops at the first finding, as libFuzzer does."""
    corpus = work / "corpus"
    findings = work / "findings"
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    args = [str(built.binary), f"-max_len={built.target.max_len}", f"-dict={built.inputs.dictionary}",
            f"-artifact_prefix={findings}{os.sep}", f"-timeout={timeout_per_input}", "-rss_limit_mb=2048",
            "-print_final_stats=1", "-reload=0"]
    if seconds is not None:
        args.append(f"-max_total_time={int(seconds)}")
    if runs is not None:
        args.append(f"-runs={int(runs)}")
    args += [*extra_args, str(corpus), str(built.inputs.seeds)]
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:symbolize=1",
               UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:symbolize=1")
    start = time.perf_counter()
    wall = None if seconds is None else seconds * 2 + 120
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=wall)
    elapsed = time.perf_counter() - start
    log = proc.stderr + proc.stdout
    figures = parse_log(log)
    executions = figures.get("number_of_executed_units", figures.get("runs", 0))
    found = tuple(sorted(p for p in findings.iterdir() if p.name.startswith(FINDING_PREFIXES)))
    return FuzzResult(
        target=built.target.name, executions=executions,
        execs_per_second=figures.get("average_exec_per_sec", executions / elapsed if elapsed else 0.0),
        cov=figures.get("cov", 0), ft=figures.get("ft", 0), corpus_units=figures.get("corp", 0),
        new_units=figures.get("new_units_added", 0), seconds=elapsed, findings=found, exit_code=proc.returncode,
        log=log)


def replay(built: BuiltTarget, inputs: list[Path], *, trace: bool = False) -> subprocess.CompletedProcess:
    """Run the target once on each input (a reproducer, or the seeds); with ``trace`` the link targets print every
    reply (``reply type 0x.. seq .. flags .. body ..``, an ERROR's code and text) and every reset on stderr."""
    env = dict(os.environ, EL_FUZZ_TRACE="1" if trace else "0",
               ASAN_OPTIONS="abort_on_error=1:symbolize=1", UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    return subprocess.run([str(built.binary), *map(str, inputs)], capture_output=True, text=True, env=env, timeout=600)


def summary(result: FuzzResult) -> str:
    found = ", ".join(str(p) for p in result.findings) or ("none" if result.clean else f"exit code {result.exit_code}")
    return (f"{result.target}: {result.executions:,} executions in {result.seconds:.0f} s "
            f"({result.execs_per_second:,.0f}/s), cov {result.cov}, ft {result.ft}, corpus {result.corpus_units} "
            f"units ({result.new_units} new), findings: {found}")
