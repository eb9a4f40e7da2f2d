"""The host side of the serial protocol (docs/protocol.md): framing, messages, and a device client.

Importing the package registers its pyserial URL handlers (``fault://``, protocol_fault.py) through pyserial's
documented mechanism, ``serial.protocol_handler_packages``, so that every pyserial URL in edgeleak can be one."""


def register_url_handlers() -> None:
    """Let ``serial.serial_for_url`` find ``edgeleak.link.protocol_*`` modules (idempotent)."""
    import serial

    if __name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(__name__)


register_url_handlers()
