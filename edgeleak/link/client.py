"""A device on the other end of a serial link: send requests, receive replies, recover from a noisy line.

Every request may be resent with its sequence number (the device answers a retransmission without running it
twice, docs/protocol.md): the client resends when the reply is damaged or missing, with waits scaled to the
message and the link (edgeleak.link.retry), and gives up after bounded attempts with one line saying what it saw.
"""

from __future__ import annotations

import dataclasses
import struct
import time
from typing import Callable

import numpy as np

from edgeleak.errors import EdgeleakError
from edgeleak.link.link_errors import DeviceError, LinkGaveUp, LinkTimeout, PortLost
from edgeleak.link.messages import (PART_DATA_MAX, DeviceInfo, DeviceStats, InferResult, MsgType, pack_resend,
                                    parse_info, parse_output, parse_part, parse_stats)
from edgeleak.link.outgoing import ChunkSize, Outgoing
from edgeleak.link.packet import MAX_BODY, MAX_CHUNK_DATA, FrameSplitter, PacketError, decode_frame
from edgeleak.link.replies import ReplyAssembler, Result, Seen
from edgeleak.link.retry import (SENSE_WINDOW_SECONDS, LinkCounters, RequestTally, RetryPolicy, default_policy,
                                 sense_budget)
from edgeleak.link.serial_port import open_serial
from edgeleak.train.config import TrainConfig
from edgeleak.train.update import Update, UpdateFormatError, parse_update

__all__ = ["DeviceClient", "DeviceError", "LinkCounters", "LinkGaveUp", "LinkTimeout", "RetryPolicy", "open_serial"]

SLOW_REQUESTS = frozenset({MsgType.TRAIN, MsgType.SENSE})  # may compute for RetryPolicy.slow_compute
MODEL_REQUESTS = frozenset({MsgType.INFER, MsgType.SAMPLE})  # run the model: allow for the inference time reported
SINGLE_CHUNK_REPLIES = frozenset({MsgType.ACK, MsgType.STATS_REPLY, MsgType.PART})
INVALID_REPLIES = 3  # clean replies in a row that do not parse: a device fault, not the link


@dataclasses.dataclass(frozen=True)
class Waited:
    """How one attempt's wait ended."""

    result: Result
    first_ours: float | None  # when the first valid frame of the reply came (the device had acted)


class DeviceClient:
    """Request/reply over an open pyserial port. Every wait has a deadline; nothing blocks forever.

    ``policy`` sets the waits and bounds (default: a UART at the port's baud rate); ``timeout`` overrides its
    ``slow_compute`` (what a TRAIN may take) and ``retries`` its ``attempts`` (retries + 1)."""

    def __init__(self, port, *, timeout: float | None = None, retries: int | None = None,
                 policy: RetryPolicy | None = None) -> None:
        policy = policy or default_policy(port)
        if timeout is not None:
            policy = dataclasses.replace(policy, slow_compute=timeout)
        if retries is not None:
            policy = dataclasses.replace(policy, attempts=retries + 1)
        self.port = port
        self.policy = policy
        self.counters = LinkCounters()
        self._splitter = FrameSplitter()
        self._replies = ReplyAssembler()
        self._seq = 0
        self.last_update_body = b""  # the last UPDATE exactly as the device sent it (a fleet bridge forwards it)
        self._last_rx = time.monotonic()
        self._output_bytes: int | None = None  # from INFO
        self._tick_hz = 0
        self._infer_seconds = 0.0  # the longest inference the device reported
        self._turnaround: dict[MsgType, float] = {}  # the longest time from a request to its reply's first frame
        self._chunk = ChunkSize(MAX_CHUNK_DATA)  # bytes of a request per acknowledged chunk
        self._part = ChunkSize(PART_DATA_MAX)  # bytes of a reply per RESEND

    @property
    def timeout(self) -> float:
        """What a TRAIN or SENSE may compute before its reply (RetryPolicy.slow_compute)."""
        return self.policy.slow_compute

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self.policy = dataclasses.replace(self.policy, slow_compute=seconds)

    @property
    def retries(self) -> int:
        return self.policy.attempts - 1

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> "DeviceClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------
    def hello(self) -> DeviceInfo:
        info = parse_info(self.request(MsgType.HELLO, b"", MsgType.INFO, check=parse_info))
        self._output_bytes, self._tick_hz = info.output_bytes, info.tick_hz
        return info

    def infer(self, input_bytes: bytes) -> InferResult:
        result = parse_output(self.request(MsgType.INFER, input_bytes, MsgType.OUTPUT, check=self._check_output))
        if self._tick_hz:
            self._infer_seconds = max(self._infer_seconds, result.ticks / self._tick_hz)
        return result

    def stats(self) -> DeviceStats:
        return parse_stats(self.request(MsgType.STATS, b"", MsgType.STATS_REPLY, check=parse_stats))

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

    def sense(self, label: int, windows: int, mean: np.ndarray, std: np.ndarray, *,
              window_seconds: float = SENSE_WINDOW_SECONDS) -> int:
        """Sensor mode: the board records ``windows`` windows from its own sensor as samples of ``label``; the reply
        is awaited for as long as the recording takes (``sense_budget``), not the training budget."""
        mean = np.asarray(mean, "<f4")
        std = np.asarray(std, "<f4")
        body = struct.pack("<BBH", label, len(mean), windows) + mean.tobytes() + std.tobytes()
        saved = self.policy
        self.policy = dataclasses.replace(saved, slow_compute=sense_budget(windows, window_seconds, saved.slow_compute))
        try:
            reply = self.request(MsgType.SENSE, body, MsgType.ACK)
        finally:
            self.policy = saved
        return struct.unpack_from("<H", reply)[0] if len(reply) >= 2 else -1

    def clear_samples(self) -> None:
        self.request(MsgType.CLEAR_SAMPLES, b"", MsgType.ACK)

    def train(self, *, seq: int | None = None) -> Update:
        """Run a round on the stored samples; the device answers with its update. ``seq`` resends a TRAIN with
        that sequence number: the device answers a retransmission of its last TRAIN with the same update."""
        body = self.request(MsgType.TRAIN, b"", MsgType.UPDATE, seq=seq, check=parse_update)
        self.last_update_body = bytes(body)
        try:
            return parse_update(body)
        except UpdateFormatError as exc:
            raise EdgeleakError(f"the device sent a malformed update: {exc}") from None

    # -- mechanics --------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        """The sequence number of the last request sent."""
        return self._seq

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def _check_output(self, body: bytes) -> None:
        parse_output(body)
        if self._output_bytes is not None and len(body) != 4 + self._output_bytes:
            raise ValueError(f"OUTPUT of {len(body)} bytes, expected {4 + self._output_bytes}")

    def _compute(self, mtype: MsgType) -> float:
        """What the device may take to act on a request before its reply begins."""
        if mtype in SLOW_REQUESTS:
            return self.policy.slow_compute
        if mtype in MODEL_REQUESTS:
            return self.policy.compute + 4 * self._infer_seconds
        return self.policy.compute

    def _single(self, reply_type: MsgType) -> bool:
        if reply_type == MsgType.OUTPUT:
            return self._output_bytes is not None and 4 + self._output_bytes <= MAX_BODY
        return reply_type in SINGLE_CHUNK_REPLIES

    def request(self, mtype: MsgType, body: bytes, reply_type: MsgType, *, seq: int | None = None,
                check: Callable[[bytes], object] | None = None) -> bytes:
        """Send a message and return the body of its reply, resending it (same sequence number) while the reply
        is damaged or missing. A body larger than a chunk goes in acknowledged chunks, each resent until the
        device holds it. ``seq`` reuses a sequence number (a retransmission); by default the next one is taken.
        ``check`` raises ValueError for a body that cannot be the reply (taken for damage). A port that fails
        under the link (a USB board that reset) raises PortLost."""
        import serial

        try:
            return self._request(mtype, body, reply_type, seq=seq, check=check)
        except (serial.SerialException, OSError) as exc:
            raise PortLost(str(getattr(self.port, "port", self.port)), exc) from None

    def _request(self, mtype: MsgType, body: bytes, reply_type: MsgType, *, seq: int | None,
                 check: Callable[[bytes], object] | None) -> bytes:
        seq = self._next_seq() if seq is None else seq
        out = Outgoing(mtype, seq, body, self._chunk.size)
        policy = self.policy
        self.counters.requests += 1
        start = time.monotonic()
        seen = LinkCounters()  # this request's share
        sends = 0
        tries = 0  # sends since the device last showed progress
        silent = 0  # sends in a row to which nothing at all came back
        acted = False  # a valid frame of the reply came: the device has run the request, resends are replayed
        invalid = 0
        while True:
            if tries >= policy.attempts:
                raise self._give_up(mtype, seq, sends, start, seen, dead=False)
            if tries:
                self.counters.retransmissions += 1
            out.size = self._chunk.size
            frames = out.frames()
            final = out.final
            self._replies.expect(seq, reply_type, single=self._single(reply_type))
            self._send(frames)
            sends += 1
            tries += 1
            sent_at = time.monotonic()
            wire = sum(len(f) for f in frames)
            deadline = sent_at + (self._wait(mtype, wire, acted=acted, silent=silent) if final
                                  else policy.first_wait(wire, policy.compute))
            while True:
                waited = self._await(deadline, seen)
                if waited.result.seen != Seen.HELD or out.held(waited.result.held):
                    break  # a CHUNK_ACK that moves nothing is a late copy: keep waiting
            if waited.first_ours is not None and not acted:
                self._turnaround[mtype] = max(self._turnaround.get(mtype, 0.0), waited.first_ours - sent_at)
                acted = True
            result = waited.result
            if result.seen == Seen.HELD:
                if tries == 1:  # a loss already shrank the chunks
                    self._chunk.after(clean=True)
                tries = silent = 0
                continue
            if result.seen == Seen.REPLY:
                if check is not None:
                    try:
                        check(result.body)
                    except ValueError as exc:
                        if mtype == MsgType.TRAIN:
                            self._absorb(seen)
                            return self._fetch_update(seq, check)
                        invalid += 1
                        seen.damaged_replies += 1
                        if invalid >= INVALID_REPLIES:
                            self._absorb(seen)
                            raise EdgeleakError(f"the device answered {mtype.name} with an invalid "
                                                f"{reply_type.name} {invalid} times: {exc}") from None
                        self._settle(seen)
                        continue
                self._absorb(seen)
                return result.body
            if result.seen == Seen.ERROR:
                self._absorb(seen)
                raise DeviceError(result.code, result.text)
            if out.chunked:
                self._chunk.after(clean=False)
            if acted and mtype == MsgType.TRAIN:
                # the round ran and its UPDATE came damaged: fetch it in parts rather than all of it again
                self._settle(seen)
                self._absorb(seen)
                return self._fetch_update(seq, check)
            silent = 0 if self._last_rx >= sent_at else silent + 1
            allowed = policy.silence + (0.0 if acted else self._compute(mtype))
            if silent >= policy.silent_attempts and time.monotonic() - max(self._last_rx, start) >= allowed:
                raise self._give_up(mtype, seq, sends, start, seen, dead=True)

    def _fetch_update(self, train_seq: int, check: Callable[[bytes], object] | None) -> bytes:
        """The UPDATE that answered TRAIN ``train_seq``, in PARTs the device serialises again from the round it
        kept (RESEND; the same bytes, nothing drawn or charged again). Parts shrink on a damaging line."""
        self.counters.fetched_replies += 1
        data = bytearray()
        total: int | None = None
        while total is None or len(data) < total:
            before = self.counters.retransmissions
            offset = len(data)

            def part_at(body: bytes, offset=offset) -> None:
                part = parse_part(body)
                if part.offset != offset or not part.data:
                    raise ValueError(f"PART at {part.offset} with {len(part.data)} bytes, asked for {offset}")

            part = parse_part(self.request(MsgType.RESEND, pack_resend(train_seq, self._part.size, offset), MsgType.PART,
                                           check=part_at))
            if total is not None and part.total != total:
                raise EdgeleakError(f"the device's UPDATE changed length between parts ({total}, then {part.total})")
            total = part.total
            data += part.data
            self._part.after(clean=self.counters.retransmissions == before)
        body = bytes(data)
        if check is not None:
            try:
                check(body)
            except ValueError as exc:
                raise EdgeleakError(f"the device sent an invalid UPDATE (fetched in parts): {exc}") from None
        return body

    def _wait(self, mtype: MsgType, wire: int, *, acted: bool, silent: int) -> float:
        """How long an attempt waits for its reply to begin. Once the device has acted on the request, a resend
        is answered at once (replayed). Before, a request that may compute long (TRAIN) first waits twice the
        longest it took so far (the whole budget the first time), doubling after each silent attempt up to the
        budget: a lost request is resent soon, and a resend while the device computes is merely replayed."""
        short = self.policy.first_wait(wire, self.policy.compute)
        if acted:
            return short
        full = self.policy.first_wait(wire, self._compute(mtype))
        seen = self._turnaround.get(mtype)
        first = full if seen is None else min(full, max(short, 2 * seen))
        return min(full, first * 2 ** min(silent, 30))

    def _give_up(self, mtype: MsgType, seq: int, attempts: int, start: float, seen: LinkCounters, *,
                 dead: bool) -> LinkGaveUp:
        seen.gave_up += 1
        self._absorb(seen)
        now = time.monotonic()
        tally = RequestTally(request=mtype.name, seq=seq, attempts=attempts, seconds=now - start,
                             bad_frames=seen.bad_frames, device_crc_errors=seen.device_crc_errors,
                             damaged_replies=seen.damaged_replies, timeouts=seen.timeouts,
                             bytes_received=seen.bytes_received, silent_seconds=now - max(self._last_rx, start))
        return LinkGaveUp(tally, dead=dead)

    def _absorb(self, seen: LinkCounters) -> None:
        """Add a request's tally to the client's counters (bytes and frames are counted as they pass)."""
        for name in ("bad_frames", "device_crc_errors", "damaged_replies", "timeouts", "gave_up"):
            setattr(self.counters, name, getattr(self.counters, name) + getattr(seen, name))

    def _send(self, frames: list[bytes]) -> None:
        import serial

        try:
            for frame in frames:
                self.port.write(frame)
                self.counters.frames_sent += 1
                self.counters.bytes_sent += len(frame)
            self.port.flush()
        except serial.SerialTimeoutException:
            raise LinkTimeout("the device stopped taking input: a write to it timed out; "
                              "check that the firmware runs") from None  # any other port failure: PortLost (request)

    def _read(self, seen: LinkCounters) -> list[Result]:
        """What the bytes waiting on the port (or arriving within one read timeout) add up to."""
        data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
        if not data:
            return []
        if type(self.port).__module__ == "serial.urlhandler.protocol_socket":
            data += self._drain()
        self._last_rx = time.monotonic()
        self.counters.bytes_received += len(data)
        seen.bytes_received += len(data)
        overflows = self._splitter.overflows
        results = []
        for frame in self._splitter.feed(data):
            try:
                packet = decode_frame(frame)
            except PacketError:
                seen.bad_frames += 1
                results.append(self._replies.bad_frame())
                continue
            self.counters.frames_received += 1
            results.append(self._replies.packet(packet))
        for _ in range(self._splitter.overflows - overflows):
            seen.bad_frames += 1
            results.append(self._replies.bad_frame())
        return results

    def _drain(self) -> bytes:
        """What has arrived on a socket:// port, without waiting: pyserial's socket handler reports at most one
        byte waiting, and reading byte by byte costs the host more than an emulated board takes to send."""
        saved = self.port.timeout
        self.port.timeout = 0
        try:
            return self.port.read(1 << 16)
        finally:
            self.port.timeout = saved

    def _await(self, deadline: float, seen: LinkCounters) -> "Waited":
        """Wait for the reply until ``deadline`` (extended while it arrives). After damage, return once the line
        has been quiet (the device is done), or at once when the damaged reply's last chunk came."""
        first_ours: float | None = None
        damage: Result | None = None

        def ended(result: Result) -> Waited:
            return Waited(result, first_ours)

        while True:
            for result in self._read(seen):
                if result.ours and first_ours is None:
                    first_ours = self._last_rx
                if result.seen in (Seen.REPLY, Seen.ERROR, Seen.HELD):
                    return ended(result)
                if result.seen == Seen.CHUNK:
                    deadline = max(deadline, time.monotonic() + self.policy.chunk_wait())
                elif result.seen == Seen.DEVICE_CRC:
                    seen.device_crc_errors += 1
                    damage = result
                elif result.seen == Seen.DAMAGED:
                    if result.ours:
                        seen.damaged_replies += 1
                    damage = result
                    if result.ended:  # the device finished the damaged reply: resend now
                        return ended(result)
            now = time.monotonic()
            if damage is not None and now - self._last_rx >= self.policy.quiet:
                self._replies.quiet()  # the device is done: what comes next starts a new message
                return ended(damage)
            if now >= deadline:
                if damage is not None:
                    return ended(damage)  # the line never went quiet: resend, the taint stays
                seen.timeouts += 1
                return ended(Result(Seen.NOTHING))

    def _settle(self, seen: LinkCounters) -> None:
        """Let the line go quiet (at most one chunk wait), then start afresh: after a reply that does not parse."""
        end = time.monotonic() + self.policy.chunk_wait()
        while time.monotonic() - self._last_rx < self.policy.quiet:
            if time.monotonic() >= end:
                return
            self._read(seen)
        self._replies.quiet()
