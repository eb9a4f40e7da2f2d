"""The host side of the serial protocol (docs/protocol.md): framing, messages, and a device client."""
