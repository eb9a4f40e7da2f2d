"""What a bare-metal build needs to know about a board: compiler flags from its CPU, its memory map, its UART's port.

A QEMU board of boards.yaml without a ``pio_env`` builds from its port family's generic env; the target below is
handed to the build (``EDGELEAK_TARGET``, read by the local ``cortex-m`` PlatformIO platform), so a new machine is
a boards.yaml entry, not code:

    qemu: {machine: mps2-an500, port: mps2}                   # UART base and memory map from the family
    qemu: {machine: netduinoplus2, port: stm32f4, ram_origin: 0x20000000}   # origins may be given

The flash and RAM lengths the linker gets are the board's budget (``flash_kb``, ``ram_kb``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuFlags:
    """GCC flags of one Cortex-M core: ``-mcpu`` and, when the board has an FPU, the FPU it has."""

    mcpu: str
    fpu: str | None  # -mfpu of the core's FPU; None: the core has none

    def flags(self, *, hard_float: bool) -> tuple[str, ...]:
        if hard_float and self.fpu:
            return (f"-mcpu={self.mcpu}", "-mthumb", f"-mfpu={self.fpu}", "-mfloat-abi=hard")
        return (f"-mcpu={self.mcpu}", "-mthumb", "-mfloat-abi=soft")


CPUS: dict[str, CpuFlags] = {
    "cortex-m0plus": CpuFlags("cortex-m0plus", None),
    "cortex-m3": CpuFlags("cortex-m3", None),
    "cortex-m4": CpuFlags("cortex-m4", "fpv4-sp-d16"),
    "cortex-m7": CpuFlags("cortex-m7", "fpv5-d16"),  # single and double precision, as on MPS2 AN500
}
"""The cores a generic build knows; ``fpu: true`` on a core without an FPU is refused."""


@dataclass(frozen=True)
class PortFamily:
    """A firmware port (``firmware/src/ports/``) and the machines it runs on: where their UART and memory are."""

    name: str
    pio_env: str  # the generic env that builds any board of the family
    uart: str  # what the port talks on, for the docs and ``edgeleak boards``
    flash_origin: int
    ram_origin: int


PORT_FAMILIES: dict[str, PortFamily] = {
    "mps2": PortFamily("mps2", "qemu-mps2", "CMSDK APB UART0 at 0x40004000", flash_origin=0x0, ram_origin=0x20000000),
    "stm32f4": PortFamily("stm32f4", "qemu-stm32f4", "USART1 at 0x40011000",
                          flash_origin=0x08000000, ram_origin=0x20000000),
}


@dataclass(frozen=True)
class Target:
    """One generic build: the board's name (INFO reports it), the machine QEMU runs, the core's flags and the
    linker's memory map."""

    board: str
    machine: str
    port: str
    machine_flags: tuple[str, ...]
    flash_origin: int
    flash_bytes: int
    ram_origin: int
    ram_bytes: int

    def environ(self) -> dict[str, str]:
        """``EDGELEAK_TARGET`` for the build: what the ``cortex-m`` platform's builder reads."""
        return {"EDGELEAK_TARGET": json.dumps({
            "board": self.board, "machine_flags": list(self.machine_flags), "qemu_machine": self.machine,
            "flash_origin": self.flash_origin, "flash_length": self.flash_bytes,
            "ram_origin": self.ram_origin, "ram_length": self.ram_bytes,
        }, sort_keys=True, allow_nan=False)}


def make_target(*, board: str, cpu: str, fpu: bool, machine: str, port: str, flash_bytes: int, ram_bytes: int,
                flash_origin: int | None = None, ram_origin: int | None = None) -> Target:
    """The target of a generic QEMU board; ValueError (one line) for a core or family the build does not know."""
    if cpu not in CPUS:
        raise ValueError(f"cpu {cpu!r} has no generic build; known: {', '.join(CPUS)}")
    if port not in PORT_FAMILIES:
        raise ValueError(f"port {port!r} is not a port family; known: {', '.join(PORT_FAMILIES)}")
    core = CPUS[cpu]
    if fpu and core.fpu is None:
        raise ValueError(f"fpu: true, but {cpu} has no FPU")
    family = PORT_FAMILIES[port]
    return Target(board=board, machine=machine, port=port, machine_flags=core.flags(hard_float=fpu),
                  flash_origin=family.flash_origin if flash_origin is None else flash_origin, flash_bytes=flash_bytes,
                  ram_origin=family.ram_origin if ram_origin is None else ram_origin, ram_bytes=ram_bytes)
