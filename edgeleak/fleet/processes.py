"""Starting and stopping a fleet's processes: the SuperLink, the SuperNodes, the bridges; and submitting a run with
``flwr run``. Every Flower process gets the offline environment (no telemetry, no update check, no run-time
dependency installation)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from edgeleak.errors import EdgeleakError

APP_DIR = Path(__file__).parent / "app"
SECAGG_APP_DIR = Path(__file__).parent / "app_secagg"
"""The Flower app projects ``flwr run`` builds, plain and behind SecAgg+ (their code is the installed package)."""


def flower_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    here = str(Path(sys.executable).parent)  # Flower starts flower-superexec and flwr-clientapp by name
    env["PATH"] = here + os.pathsep + env.get("PATH", "")
    env.update(FLWR_HOME=str(home), FLWR_TELEMETRY_ENABLED="0", FLWR_DISABLE_UPDATE_CHECK="1",
               RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def bin_path(name: str) -> str:
    """A console script of this environment (flwr, flower-superlink, ...), next to the running Python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise EdgeleakError(f"{name} is not installed next to {Path(sys.executable).name}; reinstall edgeleak")
    return str(path)


@dataclass(frozen=True)
class Tls:
    """TLS for anything beyond loopback: the SuperLink's certificate and key, the CA the nodes and flwr trust."""
    ca: Path
    cert: Path | None = None
    key: Path | None = None

    def superlink_flags(self) -> list[str]:
        if self.cert is None or self.key is None:
            raise EdgeleakError("the SuperLink needs --tls-cert and --tls-key with --tls-ca")
        return ["--ssl-ca-certfile", str(self.ca), "--ssl-certfile", str(self.cert), "--ssl-keyfile", str(self.key)]


def superlink_command(host: str, port: int, *, tls: Tls | None, simulation: bool = False) -> list[str]:
    cmd = [bin_path("flower-superlink"), "--host", host, "--port", str(port), "--disable-runtime-dependency-installation"]
    cmd += tls.superlink_flags() if tls else ["--insecure"]
    return cmd + (["--simulation"] if simulation else [])


def supernode_command(superlink: str, runtime_port: int, node_config: str, *, tls: Tls | None) -> list[str]:
    cmd = [bin_path("flower-supernode"), "--superlink", superlink, "--port", str(runtime_port), "--node-config", node_config]
    return cmd + (["--root-certificates", str(tls.ca)] if tls else ["--insecure"])


def node_config(name: str, bridges: list[str], *, require_secagg: bool = False) -> str:
    return f"node-name='{name}' bridges='{','.join(bridges)}' require-secagg={str(require_secagg).lower()}"


def write_connection(home: Path, name: str, address: str, *, tls: Tls | None) -> None:
    """``$FLWR_HOME/config.toml``'s ``[superlink.NAME]``, the connection ``flwr run`` and ``flwr ls`` use."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    lines = [] if not path.exists() else path.read_text().splitlines()
    out, skip = [], False
    for line in lines:
        if line.strip().startswith("["):
            skip = line.strip() == f"[superlink.{name}]"
        if not skip:
            out.append(line)
    out += [f"[superlink.{name}]", f'address = "{address}"']
    out += [f'root-certificates = "{tls.ca}"'] if tls else ["insecure = true"]
    path.write_text("\n".join(out).strip() + "\n")


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as f:
        f.write(("$ " + " ".join(cmd) + "\n").encode())  # the command line, to rerun it by hand with more flags
        return subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def wait_for_line(log: Path, needle: str, proc: subprocess.Popen, timeout: float) -> str:
    """The first line of ``log`` containing ``needle``; a process that exits first, or a timeout, is an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        for line in text.splitlines():
            if needle in line:
                return line
        if proc.poll() is not None:
            tail = text.strip().splitlines()[-1:] or ["(no output)"]
            raise EdgeleakError(f"{Path(proc.args[0]).name} exited with {proc.returncode}: {tail[0]}")
        time.sleep(0.2)
    raise EdgeleakError(f"{Path(proc.args[0]).name} did not say {needle!r} within {timeout:.0f} s (log: {log})")


def wait_port(host: str, port: int, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Until ``host:port`` accepts connections; a process that exits first is an error naming its last log line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
            raise EdgeleakError(f"{Path(proc.args[0]).name} exited with {proc.returncode}: "
                                f"{lines[-1] if lines else '(no output)'} (log: {log})")
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.2)
    raise EdgeleakError(f"{Path(proc.args[0]).name} did not open {host}:{port} within {timeout:.0f} s (log: {log})")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process, SIGKILL it if it lingers, then whatever of its process group is left (it was started in
    a session of its own: a SuperNode's superexec and ClientApps, a bridge's emulator)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def exit_on_sigterm() -> None:
    """SIGTERM and SIGHUP raise SystemExit, so the caller's clean-up stops its children by PID."""
    def leave(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)


def flwr(args: list[str], home: Path, *, timeout: float = 120.0) -> dict:
    """Run ``flwr ARGS --format json`` and return its JSON; a failure is one line."""
    try:
        done = subprocess.run([bin_path("flwr"), *args, "--format", "json"], env=flower_env(home), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EdgeleakError(f"flwr {args[0]} did not answer within {timeout:.0f} s") from None
    try:
        out = json.loads(done.stdout)
    except json.JSONDecodeError:
        out = {}
    if done.returncode != 0 or not out.get("success", False):
        why = out.get("error-message") or (done.stderr or done.stdout).strip().splitlines()[-1:] or ["unknown"]
        raise EdgeleakError(f"flwr {args[0]} failed: {why if isinstance(why, str) else why[0]}")
    return out


def submit(connection: str, plan_file: Path, home: Path, *, sim_bridge: str = "", federation: str = "",
           secagg: bool = False) -> int:
    """``flwr run`` the fleet app with the plan; returns the run's id."""
    args = ["run", str(SECAGG_APP_DIR if secagg else APP_DIR), connection, "--run-config", f"plan='{plan_file}' sim-bridge='{sim_bridge}'"]
    out = flwr(args + (["--federation-config", federation] if federation else []), home)
    return int(out["run-id"])


def run_status(connection: str, run_id: int, home: Path) -> str:
    """``pending``, ``starting``, ``running``, ``finished:completed``, ``finished:failed``, ... as flwr ls reports."""
    out = flwr(["ls", connection, "--run-id", str(run_id)], home, timeout=60.0)
    runs = out.get("runs") or []
    return str(runs[0].get("status", "unknown")) if runs else "unknown"
