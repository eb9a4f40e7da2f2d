"""A bridge: the long-lived process that owns one board (its serial port, or the emulator it starts) across rounds
and runs, and runs a round on it for whichever ClientApp process asks.

A Flower ClientApp lives for one message, and opening a USB serial port resets many Arduino boards, so the port can
not belong to it. The bridge listens on a loopback address with an authentication key (``multiprocessing``'s HMAC
handshake) and answers one request at a time (docs/fleet.md, Bridges):

    {"op": "info"}                                        -> the board's INFO, as a capture's device report
    {"op": "round", "device": k, "config": {...}} + params, inputs, labels
                                                          -> the UPDATE body exactly as the board sent it
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge

import numpy as np

from edgeleak.boards.config import Board
from edgeleak.capture.store import DeviceReport
from edgeleak.core.model import ModelDir
from edgeleak.device.session import DeviceSession, open_device
from edgeleak.errors import EdgeleakError
from edgeleak.fl.session import FloorRefusal, device_round
from edgeleak.fleet.wire import WireError, WireMessage, pack, unpack
from edgeleak.train.config import TrainConfig

LOOPBACK = ("127.0.0.1", "localhost", "::1")
HANDSHAKE_SECONDS = 10.0
KEY_ENV = "EDGELEAK_BRIDGE_KEY"
"""The bridges' and ClientApps' shared authentication key, hex (``edgeleak fleet node`` draws one per node)."""


def bridge_key() -> bytes:
    raw = os.environ.get(KEY_ENV, "")
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise EdgeleakError(f"set {KEY_ENV} to at least 16 random bytes in hex (edgeleak fleet node does this)")
    return key


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise EdgeleakError(f"bridge address {text!r} is not HOST:PORT")
    return host, int(port)


def split_bridge(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (the bridge's only board) or ``HOST:PORT/N`` (board N of a bridge that owns several)."""
    address, _, index = text.partition("/")
    if index and not index.isdigit():
        raise EdgeleakError(f"bridge {text!r}: the board after '/' must be a number")
    return address, int(index or 0)


@dataclass
class BridgeState:
    device: DeviceSession
    model: ModelDir
    report: DeviceReport
    lock: threading.Lock


def handle(state: BridgeState, request: WireMessage) -> WireMessage:
    """One request to one reply; a device or configuration problem becomes an error reply, never an exception."""
    op = request.header.get("op")
    if op == "info":
        return WireMessage({"ok": True, "report": state.report.to_json(), "model_hash": state.model.sha256,
                            "max_samples": int(state.device.info.max_samples), "url": state.device.url})
    if op != "round":
        return WireMessage({"ok": False, "error": f"unknown request {op!r}"})
    if request.header.get("model_hash") != state.model.sha256:
        return WireMessage({"ok": False, "error": "the server's model is not the one this board runs"})
    try:
        config = TrainConfig.from_dict(request.header["config"])
        a = request.arrays
        device = int(request.header.get("device", 0))
        counters = state.device.client.counters
        before = counters.bytes_received + counters.bytes_sent
        _, attempts = device_round(device, state.device, a["params"].astype(np.float32), a["inputs"].astype(np.int8),
                                   a["labels"].astype(np.int64), config, None)
    except FloorRefusal as exc:
        return WireMessage({"ok": False, "error": str(exc), "refusal": exc.name})
    except (EdgeleakError, KeyError, TypeError, ValueError) as exc:
        return WireMessage({"ok": False, "error": str(exc)})
    body = np.frombuffer(state.device.client.last_update_body, np.uint8).copy()
    wire = counters.bytes_received + counters.bytes_sent - before
    return WireMessage({"ok": True, "attempts": attempts, "wire_bytes": wire}, {"update": body})


def serve(board: Board, model: ModelDir, address: tuple[str, int], *, ports: list[str | None],
          build_flags: tuple[str, ...] = (), ready=print) -> None:
    """Open the boards (one per entry of ``ports``; None: an emulated or host board started here) and answer
    requests until SIGTERM or SIGINT, one connection per thread, one request at a time per board; the boards (or
    their emulators) are closed on the way out."""
    key = bridge_key()
    if address[0] not in LOOPBACK:
        raise EdgeleakError(f"a bridge listens on loopback only, not {address[0]}: samples and updates cross it "
                            f"unencrypted (docs/fleet.md, Bridges)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.ExitStack() as stack:
        states = []
        for port in ports:
            device = stack.enter_context(open_device(board, model, port=port, build_flags=build_flags))
            states.append(BridgeState(device, model, DeviceReport.from_info(0, device.info), threading.Lock()))
        try:
            server = stack.enter_context(socket.create_server(address, backlog=64))
        except OSError as exc:
            raise EdgeleakError(f"bridge address {address[0]}:{address[1]} is not free: {exc.strerror}") from None
        urls = ", ".join(s.device.url for s in states)
        ready(f"bridge {board.name} x{len(states)} ({urls}) ready on {address[0]}:{address[1]} pid {os.getpid()}")
        while True:
            try:
                sock, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=_connection, args=(states, sock, key), daemon=True).start()


def _connection(states: list[BridgeState], sock: socket.socket, key: bytes) -> None:
    """The HMAC handshake (both ways, as ``multiprocessing.connection.Listener`` does it) in this connection's own
    thread, so that a local process that connects and stays silent holds up no one else; it is cut off after
    HANDSHAKE_SECONDS."""
    conn = Connection(os.dup(sock.fileno()))
    timer = threading.Timer(HANDSHAKE_SECONDS, _cut, args=(sock,))
    timer.start()
    try:
        deliver_challenge(conn, key)
        answer_challenge(conn, key)
    except (AuthenticationError, OSError, EOFError):
        conn.close()
        return
    finally:
        timer.cancel()
        sock.close()
    _answer(states, conn)


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes the handshake's blocked read
    except OSError:
        pass


def _answer(states: list[BridgeState], conn) -> None:
    with conn:
        while True:
            try:
                raw = conn.recv_bytes()
            except (EOFError, OSError):
                return
            try:
                request = unpack(raw)
                index = int(request.header.get("board", 0))
                if not 0 <= index < len(states):
                    reply = WireMessage({"ok": False, "error": f"this bridge has no board {index}"})
                else:
                    with states[index].lock:
                        reply = handle(states[index], request)
            except (WireError, ValueError, TypeError) as exc:
                reply = WireMessage({"ok": False, "error": str(exc)})
            try:
                conn.send_bytes(pack(reply))
            except OSError:
                return
