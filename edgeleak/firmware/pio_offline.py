"""Make the firmware PlatformIO project build without the PlatformIO registry.

PlatformIO Core installs one package from its registry before any build: ``tool-scons``.
:func:`provision` provides it from the ``scons`` Python package installed with edgeleak
(``<core_dir>/packages/tool-scons``, with the ``.piopm`` owner ``platformio`` that makes
PlatformIO accept it), and links the system ``arm-none-eabi-*`` binaries into a package
the QEMU envs use as their toolchain (``<core_dir>/system-toolchain``). The core dir is
``firmware/.pio-core`` (``core_dir`` in platformio.ini; git-ignored). Idempotent: a second
call only checks. Run it by hand before ``pio run``: ``python -m edgeleak.firmware.pio_offline``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

from edgeleak.errors import EdgeleakError

PLATFORMIO_VERSION = "6.2.0"
"""The PlatformIO Core version this provisioning was verified with (pinned in pyproject.toml)."""

TOOL_SCONS_VERSION = "4.41101.0"
"""The tool-scons version PlatformIO 6.2.0 asks for (``~4.41101.0``)."""

ARM_TOOLS = ("gcc", "g++", "as", "ld", "ar", "gcc-ar", "gcc-nm", "gcc-ranlib", "nm", "objcopy",
             "objdump", "ranlib", "readelf", "size", "strip", "addr2line")

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
"""The PlatformIO project (platformio.ini)."""

_SCONS_LAUNCHER = '''"""Launcher written by edgeleak.firmware.pio_offline: runs the SCons copied next to it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import SCons.Script  # noqa: E402

SCons.Script.main()
'''


def core_dir(project_dir: Path = FIRMWARE_DIR) -> Path:
    """The PlatformIO core dir of the project (``core_dir`` in platformio.ini)."""
    return project_dir / ".pio-core"


def check_platformio_version() -> str:
    """Return the installed PlatformIO Core version; raise EdgeleakError unless it is the pinned one."""
    try:
        import platformio  # noqa: PLC0415
    except ImportError as exc:
        raise EdgeleakError("PlatformIO is not installed: pip install platformio==%s" % PLATFORMIO_VERSION) from exc
    version = getattr(platformio, "__version__", "?")
    if version != PLATFORMIO_VERSION:
        raise EdgeleakError(
            "PlatformIO %s is installed; the offline build needs %s (pip install platformio==%s)"
            % (version, PLATFORMIO_VERSION, PLATFORMIO_VERSION)
        )
    return version


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _provision_scons(packages: Path) -> Path:
    spec = importlib.util.find_spec("SCons")
    if spec is None or not spec.submodule_search_locations:
        raise EdgeleakError("the scons Python package is missing: pip install scons==4.11.1")
    src = Path(list(spec.submodule_search_locations)[0])
    dst = packages / "tool-scons"
    stamp = {"source": str(src), "version": TOOL_SCONS_VERSION}
    stamp_path = dst / ".edgeleak-provisioned"
    if stamp_path.is_file() and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
        return dst
    tmp = packages / (".tool-scons.tmp-%d" % os.getpid())
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copytree(src, tmp / "SCons", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "scons.py").write_text(_SCONS_LAUNCHER, encoding="utf-8")
    _write_json(tmp / "package.json", {
        "name": "tool-scons",
        "version": TOOL_SCONS_VERSION,
        "description": "SCons from the PyPI scons package, provided offline by edgeleak",
    })
    _write_json(tmp / ".piopm", {
        "type": "tool",
        "name": "tool-scons",
        "version": TOOL_SCONS_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None},
    })
    _write_json(tmp / ".edgeleak-provisioned", stamp)
    shutil.rmtree(dst, ignore_errors=True)
    try:
        os.replace(tmp, dst)
    except OSError:  # another process provisioned it first
        shutil.rmtree(tmp, ignore_errors=True)
        if not stamp_path.is_file():
            raise
    return dst


def _provision_toolchain(root: Path) -> Path:
    """Link the system arm-none-eabi tools into a PlatformIO package; missing tools are skipped."""
    dst = root / "system-toolchain"
    bindir = dst / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for tool in ARM_TOOLS:
        name = "arm-none-eabi-" + tool
        found = shutil.which(name)
        link = bindir / name
        if found is None:
            continue
        target = os.path.realpath(found)
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    manifest = {
        "name": "toolchain-gccarmnoneeabi",
        "version": "0.0.0+system",
        "description": "The system arm-none-eabi toolchain, linked by edgeleak",
        "system": "*",
    }
    manifest_path = dst / "package.json"
    if not manifest_path.is_file() or json.loads(manifest_path.read_text(encoding="utf-8")) != manifest:
        _write_json(manifest_path, manifest)
    return dst


OFFLINE_SETTINGS = {"check_platformio_interval": 3650, "enable_telemetry": False}
"""Core-dir settings: PlatformIO's weekly upgrade check updates core packages from the registry,
which stalls offline; these keep a plain `pio run` in this project from trying."""


def _provision_settings(root: Path) -> None:
    path = root / "appstate.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        state = {}
    settings = state.setdefault("settings", {})
    if all(settings.get(k) == v for k, v in OFFLINE_SETTINGS.items()):
        return
    settings.update(OFFLINE_SETTINGS)
    _write_json(path, state)


def provision(project_dir: Path = FIRMWARE_DIR) -> Path:
    """Prepare the project's core dir for offline builds; return it. Idempotent, ~1 ms when done."""
    check_platformio_version()
    root = core_dir(project_dir)
    packages = root / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    stale = packages / "toolchain-gccarmnoneeabi.pio-link"
    _provision_scons(packages)
    _provision_settings(root)
    toolchain = _provision_toolchain(root)
    if stale.is_file() and toolchain.name not in stale.read_text(encoding="utf-8", errors="replace"):
        stale.unlink()  # a link left by an earlier, broken spec makes later builds fail
    return root


def main() -> int:
    try:
        root = provision()
    except EdgeleakError as exc:
        print("edgeleak: %s" % exc, file=sys.stderr)
        return 1
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
