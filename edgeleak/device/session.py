"""Open a running board with a given model: build and start emulated boards, find real ones, say hello."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from edgeleak.boards.config import Board
from edgeleak.core.model import ModelDir
from edgeleak.device.build import build_for_model
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.runners import host_board, qemu_board
from edgeleak.link.client import DeviceClient, open_serial
from edgeleak.link.faults import FaultSpec
from edgeleak.link.messages import DeviceInfo
from edgeleak.link.retry import RetryPolicy


@dataclass
class DeviceSession:
    board: Board
    client: DeviceClient
    info: DeviceInfo
    url: str


def find_serial_port(board: Board) -> str:
    """The port of a connected board, by the USB VID:PID pairs of boards.yaml."""
    from edgeleak.device.fleet import connected_ports

    matches = connected_ports(board)
    if not matches:
        ids = ", ".join(f"{v:04X}:{p:04X}" for v, p in board.usb_ids)
        raise EdgeleakError(f"no {board.name} found on USB (looked for {ids}); connect it or pass --port")
    if len(matches) > 1:
        raise EdgeleakError(f"several {board.name} boards are connected ({', '.join(matches)}); choose one with --port, or give --port once per board")
    return matches[0]


_BUILT: dict[tuple, Path] = {}
"""Programs built in this process, by board, model and flags: a session opens many boards of one kind, and PlatformIO's
up-to-date check costs about a second a board (the firmware sources do not change while edgeleak runs)."""


def _program(board: Board, model: ModelDir, flags: tuple[str, ...]) -> Path:
    key = (board.name, board.pio_env, str(model.path), model.sha256, flags)
    program = _BUILT.get(key)
    if program is None or not program.is_file():
        program = _BUILT[key] = build_for_model(board, model.path, flags=flags)[0].program
    return program


@contextlib.contextmanager
def _board_url(board: Board, model: ModelDir, *, port: str | None, icount: bool, flags: tuple[str, ...]) -> Iterator[str]:
    if board.kind == "serial":
        yield port or find_serial_port(board)
        return
    if port:
        yield port  # an emulator or host board someone else started
        return
    program = _program(board, model, flags)
    if board.kind == "host":
        with host_board(program) as url:
            yield url
    else:
        with qemu_board(program, machine=board.qemu_machine or board.name, icount=icount) as url:
            yield url


def link_policy(board: Board, *, timeout: float = 20.0) -> RetryPolicy:
    """Retry waits for the board's link: no line rate to the host board (a pseudo-terminal), the baud rate of a
    real board's UART and of QEMU's (its emulated UART takes about a byte time per byte).
    ``timeout``: what a training round may take."""
    if board.kind == "host":
        return RetryPolicy.for_virtual_link(slow_compute=timeout)
    return RetryPolicy.for_uart(board.baud, slow_compute=timeout)


@contextlib.contextmanager
def open_device(board: Board, model: ModelDir, *, port: str | None = None, icount: bool = False,
                timeout: float = 20.0, build_flags: tuple[str, ...] = (), faults: FaultSpec | None = None,
                policy: RetryPolicy | None = None) -> Iterator[DeviceSession]:
    """Yield a session with a board that runs ``model``; refuse a board that runs another model.

    Emulated boards are built first (with ``build_flags``, e.g. a privacy floor), then started. ``faults`` puts a
    ``fault://`` link (docs/protocol.md, Link recovery) between the host and a board started here; ``policy``
    replaces the board's retry policy (link_policy)."""
    with _board_url(board, model, port=port, icount=icount, flags=build_flags) as url:
        if faults is not None:
            url = faults.wrap(url)
        serial_port = open_serial(url, baud=board.baud)
        with DeviceClient(serial_port, policy=policy or link_policy(board, timeout=timeout)) as client:
            info = client.hello()
            if info.model_hash != model.sha256:
                raise EdgeleakError(f"{board.name} runs model {info.model_hash[:16]}, not {model.sha256[:16]}; "
                                    f"build and flash it with this model first")
            yield DeviceSession(board=board, client=client, info=info, url=url)
