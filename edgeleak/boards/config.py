"""Load and validate ``boards.yaml``: which boards exist, how to build and reach them, their budgets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from edgeleak.boards.target import CPUS, PORT_FAMILIES, Target, make_target
from edgeleak.errors import EdgeleakError
from edgeleak.privacy.floor import MAX_DELTA, Floor

KINDS = ("host", "qemu", "serial")

_BOARD_SCHEMA = {
    "type": "object",
    "required": ["kind", "description", "cpu", "fpu", "ram_kb", "flash_kb", "offline"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": list(KINDS)},
        "description": {"type": "string", "minLength": 1},
        "cpu": {"type": "string", "minLength": 1},
        "fpu": {"type": "boolean"},
        "ram_kb": {"type": "integer", "minimum": 8, "maximum": 65536},
        "flash_kb": {"type": "integer", "minimum": 16, "maximum": 65536},
        "pio_env": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        "offline": {"type": "boolean"},
        "usb": {"type": "array", "items": {"type": "string", "pattern": "^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$"}},
        "baud": {"type": "integer", "minimum": 300},
        "upload": {"enum": ["serial", "uf2", "stlink"]},
        "qemu": {
            "type": "object", "required": ["machine"], "additionalProperties": False,
            "properties": {
                "machine": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.,-]*$"},
                "port": {"enum": list(PORT_FAMILIES)},
                "flash_origin": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFFFF},
                "ram_origin": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFFFF},
            },
        },
        "floor": {
            "type": "object", "required": ["epsilon"], "additionalProperties": False,
            "properties": {
                "epsilon": {"type": "number", "exclusiveMinimum": 0},
                "delta": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DELTA},
            },
        },
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "qemu"}}}, "then": {"required": ["qemu"]}},
        {"if": {"properties": {"kind": {"const": "serial"}}}, "then": {"required": ["usb"]}},
        # without a pio_env a QEMU board builds from its port family's generic env: it must name the family
        {"if": {"properties": {"kind": {"const": "qemu"}}, "not": {"required": ["pio_env"]}},
         "then": {"properties": {"qemu": {"required": ["port"]}, "cpu": {"enum": list(CPUS)}}}},
        {"if": {"properties": {"kind": {"enum": ["host", "serial"]}}}, "then": {"required": ["pio_env"]}},
    ],
}

SCHEMA = {
    "type": "object",
    "required": ["schema_version", "default_board", "boards"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": 1},
        "default_board": {"type": "string"},
        "boards": {
            "type": "object", "minProperties": 1,
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9_-]*$"},
            "additionalProperties": _BOARD_SCHEMA,
        },
    },
}


@dataclass(frozen=True)
class Board:
    name: str
    kind: str
    description: str
    cpu: str
    fpu: bool
    ram_bytes: int
    flash_bytes: int
    pio_env: str
    offline: bool
    usb_ids: tuple[tuple[int, int], ...]
    baud: int
    qemu_machine: str | None
    floor: Floor | None = None  # the privacy floor its firmware is built with unless the command line says otherwise
    upload: str = "serial"  # "uf2": flashed through its boot ROM's UF2 bootloader (picotool), no serial port needed;
    # "stlink": through the on-board ST-LINK (st-flash), no serial port needed
    target: Target | None = None  # a QEMU board built from its port family's generic env (no pio_env in boards.yaml)


@dataclass(frozen=True)
class BoardSet:
    boards: dict[str, Board]
    default: str
    source: Path

    def get(self, name: str | None) -> Board:
        name = name or self.default
        try:
            return self.boards[name]
        except KeyError:
            raise EdgeleakError(f"unknown board {name!r}; boards in {self.source.name}: {', '.join(self.boards)}") from None


def default_boards_path() -> Path:
    """``$EDGELEAK_BOARDS`` if set, else the repository's boards.yaml."""
    env = os.environ.get("EDGELEAK_BOARDS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "boards.yaml"


def _where(error) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return path or "top level"


def _exponent_as_text(text: str) -> bool:
    """PyYAML (YAML 1.1) reads ``1e-5`` as a string: exponent numbers need a decimal point."""
    try:
        float(text)
    except ValueError:
        return False
    return "e" in text.lower() and "." not in text


def parse_boards(document: object, source: Path) -> BoardSet:
    """Validate a parsed boards document; the first schema violation becomes a one-line error."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path)))
    if errors:
        first = errors[0]
        hint = ""
        if first.validator == "type" and isinstance(first.instance, str) and _exponent_as_text(first.instance):
            hint = f" (YAML reads {first.instance} as text: write it with a decimal point, e.g. 1.0e-5)"
        raise EdgeleakError(f"{source.name}: invalid at {_where(first)}: {first.message}{hint}")
    boards = {}
    for name, raw in document["boards"].items():  # type: ignore[index]
        usb = tuple(tuple(int(part, 16) for part in pair.split(":")) for pair in raw.get("usb", ()))
        target = _generic_target(name, raw, source) if "pio_env" not in raw else None
        boards[name] = Board(
            name=name, kind=raw["kind"], description=raw["description"], cpu=raw["cpu"], fpu=raw["fpu"],
            ram_bytes=raw["ram_kb"] * 1024, flash_bytes=raw["flash_kb"] * 1024,
            pio_env=raw["pio_env"] if target is None else PORT_FAMILIES[target.port].pio_env,
            offline=raw["offline"], usb_ids=usb, baud=raw.get("baud", 115200),
            qemu_machine=raw.get("qemu", {}).get("machine"),
            floor=Floor.from_json(raw["floor"], f"{source.name}: boards/{name}/floor") if "floor" in raw else None,
            upload=raw.get("upload", "serial"), target=target,
        )
    default = document["default_board"]  # type: ignore[index]
    if default not in boards:
        raise EdgeleakError(f"{source.name}: default_board {default!r} is not one of the boards")
    return BoardSet(boards=boards, default=default, source=source)


def _generic_target(name: str, raw: dict, source: Path) -> Target:
    qemu = raw["qemu"]
    try:
        return make_target(board=name, cpu=raw["cpu"], fpu=raw["fpu"], machine=qemu["machine"], port=qemu["port"],
                           flash_bytes=raw["flash_kb"] * 1024, ram_bytes=raw["ram_kb"] * 1024,
                           flash_origin=qemu.get("flash_origin"), ram_origin=qemu.get("ram_origin"))
    except ValueError as exc:
        raise EdgeleakError(f"{source.name}: invalid at boards/{name}: {exc}") from None


def load_boards(path: Path | None = None) -> BoardSet:
    """Read and validate boards.yaml (or ``path``)."""
    path = path or default_boards_path()
    try:
        text = path.read_text()
    except OSError as exc:
        raise EdgeleakError(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise EdgeleakError(f"{path.name} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_boards(document, path)
