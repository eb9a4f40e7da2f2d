"""Run the ``edgeleak`` command line as a user does (a separate process), and check a user error's one line."""

from __future__ import annotations

import re
import subprocess
import sys


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeleak.cli", *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, needle: str, *, regex: bool = False) -> str:
    """Exit code 2, no traceback, one line on stderr that starts ``edgeleak: error:`` and holds ``needle`` (a regular
    expression with ``regex``); returns the line."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgeleak: error: "), proc.stderr
    assert (re.search(needle, lines[0]) if regex else needle in lines[0]), lines[0]
    return lines[0]
