"""Opening a serial port by URL with one clear line for each way it fails."""

from __future__ import annotations

import errno

from edgeleak.errors import EdgeleakError


def open_serial(url: str, *, baud: int = 115200, timeout: float = 0.01):
    """Open a pyserial port by URL (``/dev/ttyACM0``, ``socket://host:port``, ``fault://...``, ``loop://``) with clear
    errors. ``timeout`` bounds one read: the client polls its deadlines at this period."""
    import serial

    from edgeleak.link import register_url_handlers

    register_url_handlers()
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


def reopen_serial(port, *, wait: float = 10.0, poll: float = 0.2) -> None:
    """Close ``port`` and open it again by its name, retrying for up to ``wait`` seconds: a USB board that resets
    leaves the bus and comes back (re-enumerates) under the same name, a ``/dev/serial/by-id`` link, after a while."""
    import time

    import serial

    name = port.port
    try:
        port.close()
    except (serial.SerialException, OSError):
        pass
    deadline = time.monotonic() + wait
    while True:
        try:
            port.open()
            port.reset_input_buffer()
            return
        except (serial.SerialException, OSError) as exc:
            if time.monotonic() >= deadline:
                raise EdgeleakError(f"the board did not come back on {name} within {wait:g} s "
                                    f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
            time.sleep(poll)
