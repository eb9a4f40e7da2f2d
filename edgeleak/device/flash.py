"""Put firmware with a model on a real board through PlatformIO's upload (needs the PlatformIO registry)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from edgeleak.boards.config import Board
from edgeleak.device.build import default_build_dir, model_table_flags, write_model_source
from edgeleak.device.model_dir import load_model_dir
from edgeleak.device.session import find_serial_port
from edgeleak.errors import EdgeleakError
from edgeleak.firmware.build import build_environ, pio_command
from edgeleak.firmware.pio_offline import FIRMWARE_DIR
from edgeleak.privacy.floor import check_build_flags


UPLOADERS = {  # upload method: (what flashed it, where a failure happened)
    "uf2": ("UF2 boot ROM", "its boot ROM (hold BOOTSEL while plugging it in)"),
    "stlink": ("ST-LINK", "its ST-LINK (st-flash from stlink-tools; is the board on USB?)"),
}


def flash_board(board: Board, model_path: Path, *, port: str | None = None, timeout: float = 900.0,
                flags: tuple[str, ...] = ()) -> str:
    """Build (with the extra compiler ``flags``, e.g. a privacy floor) and upload; returns the port used.
    Emulated boards need no flashing: they boot the built image."""
    if board.kind != "serial":
        raise EdgeleakError(f"{board.name} is {'emulated' if board.kind == 'qemu' else 'the host board'}: "
                            f"nothing to flash; 'edgeleak build' builds it and 'edgeleak infer'/'train' start it")
    check_build_flags(flags)
    model = load_model_dir(model_path)
    if port is None and board.upload in ("uf2", "stlink"):
        upload_port = None  # picotool finds the board in its boot ROM (BOOTSEL held, or reset into it from the sketch),
        # st-flash finds the ST-LINK on USB
    else:
        upload_port = port or find_serial_port(board)
    source = write_model_source(model)
    cmd = pio_command("run", "-d", str(FIRMWARE_DIR), "-e", board.pio_env, "-t", "upload",
                      *(("--upload-port", upload_port) if upload_port else ()))
    env = build_environ(build_dir=default_build_dir(model, flags).resolve(), model_c=source.resolve(),
                        extra_flags=flags + model_table_flags(model.artifact))
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise EdgeleakError(f"uploading to {board.name} timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        lines = [l for l in (proc.stdout + proc.stderr).splitlines() if "rror" in l] or ["pio run -t upload failed"]
        where = upload_port or UPLOADERS[board.upload][1]
        hint = "" if board.offline else " (the first build needs the PlatformIO registry)"
        raise EdgeleakError(f"flashing {board.name} on {where} failed: {lines[-1].strip()}{hint}")
    return upload_port or UPLOADERS[board.upload][0]
