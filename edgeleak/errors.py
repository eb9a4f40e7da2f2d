"""The one exception type for user-facing errors: the CLI prints its message on one line and exits non-zero."""


class EdgeleakError(Exception):
    """A problem the user can fix (bad input, missing tool, model too big); never a bug."""


class NotApplicable(EdgeleakError):
    """An attack that applies to no target of a capture (e.g. the analytic attack on multi-step updates); ``reason``
    is the first target's reason. A study records it as a value, not as a failure."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
