"""pyserial URL handler ``fault://``: a serial link that damages the bytes it carries, in both directions.

    fault://HOST:PORT?flip=1e-3&drop=1e-3&dup=1e-3&seed=1    a TCP socket, as socket://HOST:PORT (QEMU boards)
    fault:///dev/pts/5?flip=1e-3&drop=1e-3&dup=1e-3          a serial device or pseudo-terminal by path (the host board)

Every written and every read byte is, independently, dropped, bit-flipped or duplicated at the given probabilities
(edgeleak.link.faults); the damage repeats exactly with the same seed (default 0). ``faults`` reports what was done.
Control lines (DTR, RTS, break) are not passed on. edgeleak.link registers this package with pyserial
(``serial.protocol_handler_packages``), so ``serial.serial_for_url`` and every ``--port`` accept these URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

from edgeleak.link.faults import READ, WRITTEN, FaultLine, FaultReport, FaultSpec

FORM = '"fault://HOST:PORT?flip=P&drop=P&dup=P&seed=N" or "fault:///dev/ttyX?flip=P&drop=P&dup=P&seed=N"'


@dataclass(frozen=True)
class FaultUrl:
    inner: str  # the pyserial URL of the link being damaged
    spec: FaultSpec


def parse_fault_url(url: str) -> FaultUrl:
    """Split a ``fault://`` URL into the link it wraps and the damage; ValueError naming the expected form."""
    parts = urlsplit(url)
    if parts.scheme != "fault":
        raise ValueError(f"expected {FORM}, got {url!r}")
    try:
        options = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError(f"expected {FORM}: malformed options {parts.query!r}") from None
    values = {}
    for name, given in options.items():
        if name not in ("flip", "drop", "dup", "seed"):
            raise ValueError(f"expected {FORM}: unknown option {name!r}")
        if len(given) != 1:
            raise ValueError(f"expected {FORM}: option {name!r} given {len(given)} times")
        try:
            values[name] = int(given[0]) if name == "seed" else float(given[0])
        except ValueError:
            raise ValueError(f"expected {FORM}: {name}={given[0]!r} is not a number") from None
    spec = FaultSpec(**values)
    if parts.netloc and parts.path:
        raise ValueError(f"expected {FORM}: give HOST:PORT or a device path, not both ({url!r})")
    if parts.netloc:
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError(f"expected {FORM}: {parts.netloc!r} is not HOST:PORT")
        return FaultUrl(f"socket://{parts.netloc}", spec)
    if not parts.path.startswith("/"):
        raise ValueError(f"expected {FORM}: no HOST:PORT and no device path in {url!r}")
    return FaultUrl(parts.path, spec)


class Serial(SerialBase):
    """The damaging link; pyserial builds it for ``fault://`` URLs."""

    DRAIN = 1 << 16  # bytes taken from the link underneath per read, at most

    def open(self) -> None:
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        try:
            target = parse_fault_url(self.portstr)
        except ValueError as exc:
            raise SerialException(str(exc)) from None
        self._inner = serial.serial_for_url(target.inner, baudrate=self._baudrate, timeout=self._timeout,
                                            write_timeout=self._write_timeout, exclusive=self._exclusive)
        self._lines = (FaultLine(target.spec, WRITTEN), FaultLine(target.spec, READ))
        self._received = bytearray()  # damaged bytes not read yet
        self.is_open = True

    def close(self) -> None:
        if self.is_open:
            self._inner.close()
            self.is_open = False

    @property
    def faults(self) -> FaultReport:
        """The damage done so far, per direction."""
        return FaultReport(self._lines[WRITTEN].counts, self._lines[READ].counts)

    @property
    def inner(self):
        """The undamaged port underneath."""
        return self._inner

    def _reconfigure_port(self) -> None:
        inner = getattr(self, "_inner", None)
        if inner is None:
            return
        if inner.timeout != self._timeout:
            inner.timeout = self._timeout
        if inner.write_timeout != self._write_timeout:
            inner.write_timeout = self._write_timeout
        if inner.baudrate != self._baudrate:
            inner.baudrate = self._baudrate

    @property
    def in_waiting(self) -> int:
        self._check_open()
        return len(self._received) + self._inner.in_waiting

    def read(self, size: int = 1) -> bytes:
        self._check_open()
        timeout = Timeout(self._timeout)
        while len(self._received) < size:
            chunk = bytearray(self._inner.read(max(1, min(size - len(self._received), self._inner.in_waiting or 1))))
            while chunk and len(chunk) < self.DRAIN:  # and what else is there already (a socket tells 0 or 1 waiting)
                waiting = self._inner.in_waiting
                if not waiting:
                    break
                chunk += self._inner.read(waiting)
            if chunk:
                self._received += self._lines[READ].apply(chunk)
            if timeout.expired() or (not chunk and self._timeout is not None):
                break
        out = bytes(self._received[:size])
        del self._received[:size]
        return out

    def write(self, data) -> int:
        self._check_open()
        data = bytes(data)
        self._inner.write(self._lines[WRITTEN].apply(data))
        return len(data)

    def flush(self) -> None:
        self._check_open()
        self._inner.flush()

    def reset_input_buffer(self) -> None:
        self._check_open()
        self._received.clear()
        self._inner.reset_input_buffer()

    def reset_output_buffer(self) -> None:
        self._check_open()
        self._inner.reset_output_buffer()

    def _update_break_state(self) -> None:
        pass  # control lines are not modelled

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True

    def _check_open(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
