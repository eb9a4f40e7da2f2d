"""A device on the other end of a serial link: send requests, receive replies, retransmit on CRC errors."""

from __future__ import annotations

import errno
import struct
import time
from dataclasses import dataclass

import numpy as np

from edgeleak.errors import EdgeleakError
from edgeleak.link.messages import (DeviceInfo, DeviceStats, ErrorCode, InferResult, MsgType, parse_error, parse_info,
                                    parse_output, parse_stats)
from edgeleak.link.packet import FrameSplitter, Packet, PacketError, decode_frame, encode_message
from edgeleak.train.config import TrainConfig
from edgeleak.train.update import Update, UpdateFormatError, parse_update


class DeviceError(EdgeleakError):
    """The device answered with an ERROR frame."""

    def __init__(self, code: int, text: str) -> None:
        name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else f"code {code}"
        super().__init__(f"device error {name}: {text}")
        self.code = code


class LinkTimeout(EdgeleakError):
    """No (complete) reply within the timeout."""


def open_serial(url: str, *, baud: int = 115200, timeout: float = 0.05):
    """Open a pyserial port by URL (``/dev/ttyACM0``, ``socket://host:port``, ``loop://``) with clear errors."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout, write_timeout=5.0, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        cause = getattr(exc, "errno", None) or getattr(exc.__context__, "errno", None)
        text = str(exc)
        if cause == errno.ENOENT or "No such file" in text:
            raise EdgeleakError(f"serial port {url} does not exist; is the board connected? ('edgeleak boards' lists boards, pass --port)") from None
        if cause in (errno.EBUSY, errno.EAGAIN) or "busy" in text.lower() or "lock" in text.lower():
            raise EdgeleakError(f"serial port {url} is busy: another program (a serial monitor?) holds it; close it and retry") from None
        if cause == errno.EACCES or "Permission denied" in text:
            raise EdgeleakError(f"no permission to open {url}; add yourself to the 'dialout' group") from None
        if "Connection refused" in text:
            raise EdgeleakError(f"nothing listens at {url}; is the emulator running?") from None
        raise EdgeleakError(f"cannot open serial port {url}: {text.splitlines()[0] if text else type(exc).__name__}") from None


@dataclass
class LinkCounters:
    frames_sent: int = 0
    frames_received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retransmissions: int = 0
    bad_frames: int = 0


class DeviceClient:
    """Request/reply over an open pyserial port. Every read has a deadline; nothing blocks forever."""

    def __init__(self, port, *, timeout: float = 10.0, retries: int = 3) -> None:
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.counters = LinkCounters()
        self._splitter = FrameSplitter()
        self._pending: list[bytes] = []
        self._seq = 0

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> "DeviceClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------
    def hello(self) -> DeviceInfo:
        return parse_info(self.request(MsgType.HELLO, b"", MsgType.INFO))

    def infer(self, input_bytes: bytes) -> InferResult:
        return parse_output(self.request(MsgType.INFER, input_bytes, MsgType.OUTPUT))

    def stats(self) -> DeviceStats:
        return parse_stats(self.request(MsgType.STATS, b"", MsgType.STATS_REPLY))

    def reset(self) -> None:
        self.request(MsgType.RESET, b"", MsgType.ACK)

    def configure(self, config: TrainConfig) -> None:
        self.request(MsgType.CONFIGURE, config.pack(), MsgType.ACK)

    def load_weights(self, params: np.ndarray) -> None:
        """The global head weights, every parameter in the order of docs/training.md."""
        self.request(MsgType.LOAD_WEIGHTS, np.ascontiguousarray(params, "<f4").tobytes(), MsgType.ACK)

    def add_sample(self, label: int, input_bytes: bytes) -> int:
        """Store one training sample; returns how many the device now holds."""
        reply = self.request(MsgType.SAMPLE, struct.pack("<B3x", label) + input_bytes, MsgType.ACK)
        return struct.unpack_from("<H", reply)[0] if len(reply) >= 2 else -1

    def sense(self, label: int, windows: int, mean: np.ndarray, std: np.ndarray) -> int:
        """Sensor mode: the board records ``windows`` windows from its own sensor as samples of ``label``."""
        mean = np.asarray(mean, "<f4")
        std = np.asarray(std, "<f4")
        body = struct.pack("<BBH", label, len(mean), windows) + mean.tobytes() + std.tobytes()
        reply = self.request(MsgType.SENSE, body, MsgType.ACK)
        return struct.unpack_from("<H", reply)[0] if len(reply) >= 2 else -1

    def clear_samples(self) -> None:
        self.request(MsgType.CLEAR_SAMPLES, b"", MsgType.ACK)

    def train(self, *, seq: int | None = None) -> Update:
        """Run a round on the stored samples; the device answers with its update. ``seq`` resends a TRAIN with
        that sequence number: the device answers a retransmission of its last TRAIN with the same update."""
        body = self.request(MsgType.TRAIN, b"", MsgType.UPDATE, seq=seq)
        try:
            return parse_update(body)
        except UpdateFormatError as exc:
            raise EdgeleakError(f"the device sent a malformed update: {exc}") from None

    # -- mechanics --------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        """The sequence number of the last request sent."""
        return self._seq

    def request(self, mtype: MsgType, body: bytes, reply_type: MsgType, *, seq: int | None = None) -> bytes:
        """Send a message and return the body of its reply, resending when the device reports a CRC error.
        ``seq`` reuses a sequence number (a retransmission); by default the next one is taken."""
        if seq is None:
            self._seq = (self._seq + 1) & 0xFFFF
            seq = self._seq
        frames = encode_message(mtype, seq, body)
        for attempt in range(self.retries + 1):
            self._send(frames)
            try:
                return self._await(seq, reply_type)
            except DeviceError as exc:
                if exc.code != ErrorCode.E_CRC or attempt == self.retries:
                    raise
                self.counters.retransmissions += 1
        raise AssertionError("unreachable")

    def _send(self, frames: list[bytes]) -> None:
        for frame in frames:
            self.port.write(frame)
            self.counters.frames_sent += 1
            self.counters.bytes_sent += len(frame)
        self.port.flush()

    def _next_packet(self, deadline: float) -> Packet:
        while True:
            while self._pending:
                frame = self._pending.pop(0)
                try:
                    packet = decode_frame(frame)
                except PacketError:
                    self.counters.bad_frames += 1
                    continue
                self.counters.frames_received += 1
                return packet
            if time.monotonic() > deadline:
                raise LinkTimeout(f"no reply from the device within {self.timeout:g} s; check the port and that the firmware runs")
            data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
            if data:
                self.counters.bytes_received += len(data)
                self._pending.extend(self._splitter.feed(data))

    def _await(self, seq: int, reply_type: MsgType) -> bytes:
        deadline = time.monotonic() + self.timeout
        body = bytearray()
        while True:
            packet = self._next_packet(deadline)
            if packet.type == MsgType.ERROR:
                code, text = parse_error(packet.body)
                if packet.seq == seq or code == ErrorCode.E_CRC:
                    raise DeviceError(code, text)
                continue
            if packet.seq != seq or packet.type != reply_type:
                continue  # a stale reply from an earlier request
            body += packet.body
            if not packet.more:
                return bytes(body)
