"""What the link raises: the device's refusals and the ends of a request's retries (each one line, an
EdgeleakError)."""

from __future__ import annotations

from edgeleak.errors import EdgeleakError
from edgeleak.link.messages import ErrorCode
from edgeleak.link.retry import RequestTally


class DeviceError(EdgeleakError):
    """The device answered with an ERROR frame."""

    def __init__(self, code: int, text: str) -> None:
        name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else f"code {code}"
        super().__init__(f"device error {name}: {text}")
        self.code = code


class LinkTimeout(EdgeleakError):
    """No (complete) reply within the timeout."""


class LinkGaveUp(LinkTimeout):
    """A request abandoned after bounded retries; ``tally`` says what was seen, ``dead`` whether nothing came back."""

    def __init__(self, tally: RequestTally, *, dead: bool) -> None:
        super().__init__(tally.dead_line() if dead else tally.noisy_line())
        self.tally = tally
        self.dead = dead


class PortLost(EdgeleakError):
    """The port failed under the link (a USB board that reset re-enumerates: its port vanishes and comes back);
    the caller may ``reopen_serial`` it and start the round again."""

    def __init__(self, port: str, cause: BaseException) -> None:
        text = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        super().__init__(f"the port {port} failed ({text}); a board that resets comes back on its port after a while")
        self.port = port
