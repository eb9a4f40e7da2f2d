"""From what a user names to a ``DatasetSource``: the one place a ``--dataset`` argument (or a study config's
``dataset:``) becomes a packaged name or a user's file with its windowing options (docs/data-format.md)."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

from edgeleak.core.model import DatasetSource
from edgeleak.errors import EdgeleakError

FILE_FORMATS = {".npz": "npz", ".csv": "csv"}


@dataclass(frozen=True, kw_only=True)
class CsvOptions:
    """How a CSV recording is cut into windows; None: the default (docs/data-format.md)."""

    window: int | None = None
    stride: int | None = None
    channels: tuple[str, ...] | None = None
    label_column: str | None = None
    subject_column: str | None = None
    time_column: str | None = None

    def __post_init__(self) -> None:
        for key in ("window", "stride"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise EdgeleakError(f"--{key} must be a positive number of rows, got {value!r}")
        if self.channels is not None and (not self.channels or any(not c for c in self.channels)):
            raise EdgeleakError("--channels needs column names separated by commas, e.g. acc_x,acc_y,acc_z")

    @property
    def given(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None]


def file_format(spec: str) -> str | None:
    """'npz' or 'csv' for a file name with that suffix, else None (a packaged data set's name)."""
    return FILE_FORMATS.get(Path(spec).suffix.lower())


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def source_for(spec: str, options: CsvOptions | None = None, *, recorded: DatasetSource | None = None,
               base: Path | None = None) -> DatasetSource:
    """The source a name or file path stands for. A relative path is taken from ``base`` (default: the working
    directory) and recorded absolute. A file with the same bytes as the ``recorded`` one (a model's own data, moved)
    keeps the recorded windowing unless options are given."""
    options = options or CsvOptions()
    fmt = file_format(spec)
    if fmt is None:
        if Path(spec).suffix or "/" in spec:
            raise EdgeleakError(f"data set {spec!r}: a file must end in .npz or .csv (docs/data-format.md)")
        if options.given:
            raise EdgeleakError(f"--{options.given[0].replace('_', '-')} applies to a CSV data set, not to {spec!r}")
        return DatasetSource(spec)
    path = Path(spec).expanduser()
    path = ((base or Path.cwd()) / path).resolve() if not path.is_absolute() else path
    if fmt == "npz" and options.given:
        raise EdgeleakError(f"--{options.given[0].replace('_', '-')} applies to a CSV data set; {path.name} holds "
                            "its windows already")
    if recorded is not None and not recorded.packaged and recorded.format == fmt and not options.given \
            and file_sha256(path) == recorded.sha256:
        return dataclasses.replace(recorded, path=str(path))
    return DatasetSource(name=path.name, format=fmt, path=str(path), window=options.window, stride=options.stride,
                         channels=options.channels or (), label_column=options.label_column,
                         subject_column=options.subject_column, time_column=options.time_column)


def dataset_help(default: str | None) -> str:
    from edgeleak.data.datasets import DATASETS

    tail = f" (default {default})" if default else " (default: the model's own)"
    return (f"a packaged data set ({', '.join(DATASETS)}; 'edgeleak datasets' describes them) or a .npz or .csv "
            f"file of your own (docs/data-format.md){tail}")


def add_dataset_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--dataset`` and the options that cut a CSV recording into windows."""
    parser.add_argument("--dataset", default=default, metavar="NAME|FILE", help=dataset_help(default))
    g = parser.add_argument_group("CSV data sets", "how a --dataset FILE.csv recording becomes windows "
                                  "(docs/data-format.md)")
    g.add_argument("--window", type=int, metavar="ROWS", help="rows (time steps) per window (default 100)")
    g.add_argument("--stride", type=int, metavar="ROWS", help="rows between window starts (default: half the window)")
    g.add_argument("--channels", metavar="A,B,C", help="the channel columns, in order (default: every column but the "
                   "label, subject and time columns)")
    g.add_argument("--label-column", metavar="NAME", help="the label column (default: label, activity or class)")
    g.add_argument("--subject-column", metavar="NAME", help="the subject or session column; windows never cross a "
                   "change of it (default: subject, user or session, if present)")
    g.add_argument("--time-column", metavar="NAME", help="the time column; a new recording starts where it goes "
                   "back or jumps (default: timestamp or time, if present)")


def options_from_args(args: argparse.Namespace) -> CsvOptions:
    channels = tuple(c.strip() for c in args.channels.split(",")) if args.channels is not None else None
    return CsvOptions(window=args.window, stride=args.stride, channels=channels, label_column=args.label_column,
                      subject_column=args.subject_column, time_column=args.time_column)


def source_from_args(args: argparse.Namespace, recorded: DatasetSource | None = None) -> DatasetSource:
    """The data set a command runs on: ``--dataset`` with its CSV options, else the model's own (``recorded``)."""
    options = options_from_args(args)
    if args.dataset is None:
        if options.given:
            raise EdgeleakError(f"--{options.given[0].replace('_', '-')} needs --dataset FILE.csv")
        if recorded is None:
            raise EdgeleakError("no data set: pass --dataset")
        return recorded
    return source_for(args.dataset, options, recorded=recorded)
