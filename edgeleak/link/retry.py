"""When the host resends a request and when it gives up (docs/protocol.md, Link recovery).

An attempt waits  latency + byte_time x (request bytes + one reply frame) + compute  for the reply to begin, and
each valid chunk of it extends the wait by  latency + byte_time x one frame.  After damage (a bad frame, an E_CRC
from the device, a reply that cannot be trusted) the request is resent as soon as the line has been quiet for
``quiet``. A request is given up after ``attempts`` transmissions, or as dead when the device has sent nothing at
all for ``silence`` seconds over at least ``silent_attempts`` attempts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from edgeleak.link.cobs import max_encoded_size
from edgeleak.link.packet import MAX_BODY, MIN_PACKET

MAX_FRAME = max_encoded_size(MIN_PACKET + MAX_BODY) + 1  # bytes of the largest frame, delimiter included
BITS_PER_BYTE = 10  # a UART byte: start bit, 8 data bits, stop bit


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Timing and bounds of request retries; every time in seconds."""

    latency: float = 0.1  # turnaround of the host, the operating system (USB) and the device's main loop
    byte_time: float = 0.0  # time of one byte on the wire; 0 on a pseudo-terminal or a socket
    compute: float = 0.02  # the least time the device may take to act on any request
    slow_compute: float = 20.0  # what TRAIN (a training round) and SENSE (recording windows) may take
    quiet: float = 0.05  # silence after damage before the request is resent
    attempts: int = 5000  # transmissions of one request, at most
    silence: float = 20.0  # nothing at all from the device for this long (emulated boards under load stall for seconds), over ...
    silent_attempts: int = 3  # ... at least this many attempts: the link is dead

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("attempts", "silent_attempts"):
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{f.name} must be an integer >= 1, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{f.name} must be a finite number of seconds >= 0, got {value!r}")

    @classmethod
    def for_uart(cls, baud: int, **overrides) -> "RetryPolicy":
        """A real UART at ``baud``: every byte takes 10 bit times."""
        if baud <= 0:
            raise ValueError(f"baud must be > 0, got {baud}")
        return cls(**{"byte_time": BITS_PER_BYTE / baud, **overrides})

    @classmethod
    def for_virtual_link(cls, **overrides) -> "RetryPolicy":
        """A pseudo-terminal or a socket to a program on this computer (the host board, QEMU): no line rate."""
        return cls(**{"latency": 0.01, "byte_time": 0.0, "compute": 0.005, "quiet": 0.005, **overrides})

    def first_wait(self, request_bytes: int, compute: float) -> float:
        """How long an attempt waits for the reply to begin."""
        return self.latency + self.byte_time * (request_bytes + MAX_FRAME) + compute

    def chunk_wait(self) -> float:
        """How long a reply that is arriving may pause between chunks."""
        return self.latency + self.byte_time * MAX_FRAME


@dataclass
class LinkCounters:
    """What the link has seen since the client opened (all requests)."""

    requests: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retransmissions: int = 0  # requests, or chunks of them, sent again with the same sequence number
    bad_frames: int = 0  # frames that were not valid packets (COBS, length, version, CRC), overlong frames
    device_crc_errors: int = 0  # E_CRC: the device got a frame with a bad CRC
    damaged_replies: int = 0  # replies that could not be trusted: a chunk lost on a tainted line, an invalid body
    timeouts: int = 0  # attempts that ended without any complete reply in time
    fetched_replies: int = 0  # UPDATEs that came damaged and were fetched again in parts (RESEND)
    gave_up: int = 0  # requests abandoned (LinkGaveUp)

    def __add__(self, other: "LinkCounters") -> "LinkCounters":
        return LinkCounters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True)
class RequestTally:
    """What one request went through, for the line that says why it was given up."""

    request: str
    seq: int
    attempts: int
    seconds: float
    bad_frames: int
    device_crc_errors: int
    damaged_replies: int
    timeouts: int
    bytes_received: int
    silent_seconds: float

    def dead_line(self) -> str:
        return (f"no reply from the device to {self.request} (seq {self.seq}): nothing came back for "
                f"{self.silent_seconds:.1f} s over {self.attempts} attempts; check the port and that the firmware runs")

    def noisy_line(self) -> str:
        return (f"the link is too noisy: {self.request} (seq {self.seq}) failed {self.attempts} attempts in "
                f"{self.seconds:.1f} s ({self.bad_frames} bad frames, {self.device_crc_errors} CRC errors reported by the "
                f"device, {self.damaged_replies} damaged replies, {self.timeouts} timeouts, {self.bytes_received} bytes "
                f"received); check the cable and the baud rate")


SENSE_WINDOW_SECONDS = 1.0
"""What recording one window takes by default: a model window of about 100 steps at the IMUs' 100 Hz."""


def sense_budget(windows: int, window_seconds: float, minimum: float) -> float:
    """How long a SENSE of ``windows`` windows may take before its reply: the recording with half again for a slow
    sensor, never less than ``minimum`` (the training budget)."""
    return max(minimum, 1.5 * windows * window_seconds + 2.0)


def default_policy(port) -> RetryPolicy:
    """A UART at the port's baud rate when it has one; the policy to use when nothing is known about the link."""
    baud = getattr(port, "baudrate", None)
    return RetryPolicy.for_uart(baud) if isinstance(baud, int) and baud > 0 else RetryPolicy()
