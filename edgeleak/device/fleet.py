"""Which port each device of a session uses: the ones given with --port, or every connected board of the kind."""

from __future__ import annotations

from typing import Sequence

from edgeleak.boards.config import Board
from edgeleak.errors import EdgeleakError

DEFAULT_EMULATED_DEVICES = 4


def connected_ports(board: Board) -> list[str]:
    """Ports of every connected board of this kind, by the USB VID:PID pairs of boards.yaml, in port order."""
    from serial.tools import list_ports

    return sorted(p.device for p in list_ports.comports() if (p.vid, p.pid) in board.usb_ids)


def fleet_ports(board: Board, ports: Sequence[str] | None, devices: int | None) -> list[str | None]:
    """One port per device (None: a board this process starts, or the one connected board found later).

    - ``--port`` given once or more: one device per port; ``--devices``, if given too, must agree.
    - a real board kind without ``--port``: every connected board of the kind (``--devices N``: the first N by port).
    - an emulated kind: ``--devices`` boards started here (4 by default)."""
    if devices is not None and devices < 1:
        raise EdgeleakError(f"--devices must be at least 1, got {devices}")
    if ports:
        repeated = sorted({p for p in ports if list(ports).count(p) > 1})
        if repeated:
            raise EdgeleakError(f"--port {repeated[0]} is given more than once; one board per port")
        if devices is not None and devices != len(ports):
            raise EdgeleakError(f"--devices {devices} but {len(ports)} --port given; give one --port per device")
        return list(ports)
    if board.kind != "serial":
        return [None] * (devices or DEFAULT_EMULATED_DEVICES)
    found = connected_ports(board)
    ids = ", ".join(f"{v:04X}:{p:04X}" for v, p in board.usb_ids)
    if not found:
        raise EdgeleakError(f"no {board.name} found on USB (looked for {ids}); connect it or pass --port")
    if devices is not None and devices > len(found):
        raise EdgeleakError(f"--devices {devices} but only {len(found)} {board.name} connected ({', '.join(found)})")
    return list(found[:devices] if devices else found)
