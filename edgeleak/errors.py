"""The one exception type for user-facing errors: the CLI prints its message on one line and exits non-zero."""


class EdgeleakError(Exception):
    """A problem the user can fix (bad input, missing tool, model too big); never a bug."""
