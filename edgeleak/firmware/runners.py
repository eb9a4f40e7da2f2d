"""Start boards and hand back a pyserial URL; the process is always stopped on exit.

    with qemu_board(Path("fw/mps2-an386/firmware.elf"), machine="mps2-an386") as url:
        link = serial.serial_for_url(url)        # socket://127.0.0.1:PORT
    with host_board(Path("fw/host/program")) as url:
        link = serial.serial_for_url(url)        # /dev/pts/N

Several boards can run side by side: each QEMU gets its own free TCP port, each host board its own pty.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from edgeleak.errors import EdgeleakError


@functools.lru_cache(maxsize=None)
def qemu_machines() -> tuple[str, ...]:
    """The machines this computer's ``qemu-system-arm`` has (``-M help``); EdgeleakError without QEMU."""
    if shutil.which("qemu-system-arm") is None:
        raise EdgeleakError("qemu-system-arm not found: apt-get install qemu-system-arm")
    out = subprocess.run(["qemu-system-arm", "-M", "help"], capture_output=True, text=True, timeout=30, check=False)
    lines = out.stdout.splitlines()[1:]  # "Supported machines are:"
    return tuple(sorted(line.split()[0] for line in lines if line.strip()))


def check_qemu_machine(machine: str) -> None:
    """Refuse, in one line, a machine the installed QEMU does not emulate."""
    machines = qemu_machines()
    if machine not in machines:
        version = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True,
                                 check=False).stdout.split("\n", 1)[0].replace("QEMU emulator version ", "")
        cortex_m = [m for m in machines if m.startswith(("mps2-", "netduino", "stm32", "microbit", "lm3s", "musca"))]
        raise EdgeleakError(f"QEMU {version or ''} here has no machine {machine!r}; its Cortex-M machines: "
                            f"{', '.join(cortex_m)}")


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the Python process dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # noqa: PLC0415

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=3)


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(elf: Path, *, machine: str, port: int, icount: bool) -> list[str]:
    cmd = [
        "qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
        "-semihosting-config", "enable=on,target=native",
        "-serial", "tcp:127.0.0.1:%d,server=on,wait=on,nodelay=on" % port,
        "-kernel", str(elf),
    ]
    if icount:
        cmd += ["-icount", "shift=0"]
    return cmd


@contextlib.contextmanager
def qemu_board(elf: Path, *, machine: str = "mps2-an386", icount: bool = False,
               start_timeout: float = 10.0, attempts: int = 3) -> Iterator[str]:
    """Run ``elf`` under QEMU with UART0 on a TCP server; yield ``socket://127.0.0.1:PORT``.

    The guest waits (``wait=on``) until the host connects, so nothing it sends is lost.
    Semihosting is on (the firmware's exit and fault paths end QEMU). With ``icount`` the
    virtual clock follows executed instructions (``-icount shift=0``): tick counts repeat
    exactly run to run. QEMU is stopped when the block ends, however it ends.
    """
    check_qemu_machine(machine)
    elf = Path(elf)
    if not elf.is_file():
        raise EdgeleakError("firmware image not found: %s" % elf)
    last_error = ""
    for _ in range(attempts):
        port = free_tcp_port()
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(qemu_command(elf, machine=machine, port=port, icount=icount),
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    preexec_fn=_die_with_parent)
            try:
                ready = _wait_listening(proc, port, start_timeout)
                if ready:
                    yield "socket://127.0.0.1:%d" % port
                    return
                log.seek(0)
                last_error = log.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
                last_error = last_error[0]
            finally:
                _stop(proc)
    raise EdgeleakError("QEMU did not start for %s: %s" % (elf, last_error))


def _wait_listening(proc: subprocess.Popen, port: int, timeout: float) -> bool:
    """True once QEMU listens on port (seen in /proc/net/tcp, or by the port being taken)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if _is_listening(port):
            return True
        time.sleep(0.01)
    return False


def _is_listening(port: int) -> bool:
    needle = ":%04X 00000000:0000 0A" % port
    try:
        with open("/proc/net/tcp", encoding="ascii") as f:
            return any(needle in line for line in f)
    except OSError:  # no procfs: probe by binding
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return True
            return False


@contextlib.contextmanager
def host_board(program: Path, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Run the host board program; yield its pseudo-terminal path (a pyserial URL)."""
    program = Path(program)
    if not program.is_file() or not os.access(program, os.X_OK):
        raise EdgeleakError("host board program not found: %s" % program)
    proc = subprocess.Popen([str(program)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    try:
        line = _read_line(proc, start_timeout)
        if not line.startswith("PTY "):
            err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.poll() is not None else ""
            raise EdgeleakError("host board did not start: %s" % (err or line or "no PTY line"))
        yield line[4:].strip()
    finally:
        _stop(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode("utf-8", "replace")
