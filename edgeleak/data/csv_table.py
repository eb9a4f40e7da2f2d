"""A CSV file as a checked table of strings, and its columns as numbers (docs/data-format.md).

Parsing is the standard library's ``csv`` module (quoting, embedded separators and line breaks); this module only
checks the shape and the cells, and every problem is one line naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from edgeleak.errors import EdgeleakError

LABEL_COLUMNS = ("label", "activity", "class")
SUBJECT_COLUMNS = ("subject", "user", "session")
TIME_COLUMNS = ("timestamp", "time")


@dataclass(frozen=True)
class Table:
    """A CSV file's header and rows (rows of exactly ``len(header)`` cells; blank lines dropped)."""

    where: str  # the file's name, for messages
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: np.ndarray  # (rows,) the 1-based line of the file each row ends on

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [row[i] for row in self.rows]


def _numbers(cells: tuple[str, ...]) -> bool:
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def read_table(data: bytes, where: str, *, header_row: bool | None = True) -> Table:
    """Parse CSV bytes (UTF-8, an optional byte-order mark) with a header row (``None``: a header row unless the first
    row is all numbers; without one the columns are named "column 1", ...); ragged rows are refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EdgeleakError(f"{where} is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8") from None
    first = text.lstrip().split("\n", 1)[0]
    delimiter = "," if "," in first or not (";" in first or "\t" in first) else (";" if ";" in first else "\t")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: tuple[str, ...] | None = None
    rows, lines = [], []
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue  # a blank line
            cells = tuple(cell.strip() for cell in row)
            if header is None:
                if header_row is False or (header_row is None and _numbers(cells)):
                    header = tuple(f"column {i + 1}" for i in range(len(cells)))
                else:
                    header = cells
                    continue
            if len(cells) != len(header):
                raise EdgeleakError(f"{where} line {reader.line_num}: {len(cells)} fields, but the header has "
                                    f"{len(header)}; every row needs one cell per column")
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise EdgeleakError(f"{where} line {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise EdgeleakError(f"{where} is empty; it needs a header row and one row per time step")
    seen: set[str] = set()
    for i, name in enumerate(header):
        if name in seen:
            raise EdgeleakError(f"{where}: the header names column {name!r} twice")
        seen.add(name)
    if not rows:
        raise EdgeleakError(f"{where} has a header but no rows")
    return Table(where, header, tuple(rows), np.asarray(lines, np.int64))


def find_column(table: Table, given: str | None, defaults: tuple[str, ...], option: str,
                required: bool) -> str | None:
    """The column named by an option, else the first of ``defaults`` in the header (any case); None when optional
    and absent."""
    if given is not None:
        if given not in table.header:
            raise EdgeleakError(f"{table.where} has no column {given!r} ({option}); its columns: "
                                f"{', '.join(table.header)}")
        return given
    lowered = {name.lower(): name for name in table.header}
    for name in defaults:
        if name in lowered:
            return lowered[name]
    if required:
        raise EdgeleakError(f"{table.where} has no label column (looked for {', '.join(defaults)}); name it with "
                            f"{option}; its columns: {', '.join(table.header)}")
    return None


def text_column(table: Table, name: str) -> np.ndarray:
    """A column of non-empty cells (labels, subjects) as a str array."""
    cells = table.column(name)
    for k, cell in enumerate(cells):
        if not cell:
            raise EdgeleakError(f"{table.where} line {table.lines[k]}, column {name!r}: empty cell")
    return np.asarray(cells, dtype=str)


def numeric_column(table: Table, name: str) -> np.ndarray:
    """A column of finite numbers as float64; an empty, NaN, infinite or non-numeric cell is refused by line."""
    cells = table.column(name)
    try:
        values = np.asarray(cells, dtype=str).astype(np.float64)
    except ValueError:
        values = None
    if values is not None:
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad) == 0:
            return values
        k = int(bad[0])
        raise EdgeleakError(f"{table.where} line {table.lines[k]}, column {name!r}: {cells[k]!r} is not a finite "
                            "number (missing values must be filled or the rows dropped)")
    for k, cell in enumerate(cells):
        if not cell:
            raise EdgeleakError(f"{table.where} line {table.lines[k]}, column {name!r}: empty cell (missing values "
                                "must be filled or the rows dropped)")
        try:
            float(cell)
        except ValueError:
            raise EdgeleakError(f"{table.where} line {table.lines[k]}, column {name!r}: {cell!r} is not a number") from None
    raise AssertionError("unreachable: a column numpy could not parse has a cell float() cannot parse")


def time_column(table: Table, name: str) -> np.ndarray:
    """The time column as float64: numbers as they are, ISO 8601 times as seconds since the first row."""
    cells = table.column(name)
    try:
        return np.asarray(cells, dtype=str).astype(np.float64)
    except ValueError:
        pass
    stamps = np.empty(len(cells), "datetime64[ns]")
    for k, cell in enumerate(cells):
        try:
            stamps[k] = np.datetime64(cell, "ns")
        except ValueError:
            stamps[k] = np.datetime64("NaT")
        if np.isnat(stamps[k]):
            raise EdgeleakError(f"{table.where} line {table.lines[k]}, column {name!r}: {cell!r} is not a time "
                                "(a number, or an ISO 8601 date and time)")
    return (stamps - stamps[0]).astype(np.float64) / 1e9
