"""Firmware build and board plumbing: offline PlatformIO builds, host and QEMU board runners.

- :func:`edgeleak.firmware.build.build_firmware` builds one env of firmware/platformio.ini with a model.
- :func:`edgeleak.firmware.runners.host_board` / :func:`~edgeleak.firmware.runners.qemu_board` start a
  board and yield a pyserial URL.
- :func:`edgeleak.firmware.pio_offline.provision` prepares PlatformIO to build without its registry.
"""
