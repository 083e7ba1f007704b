"""Errors of the monitor: all mean "this data, profile or metadata cannot be monitored" (exit code 2).

They are the project's UserError, so the command line prints the message instead of a traceback.
"""

from __future__ import annotations

from ..errors import UserError


class MonitorDataError(UserError):
    """Base class: the monitor cannot run on the given data, profile or metadata."""


class EmptyDataError(MonitorDataError):
    """The current data (or the labels) has no rows."""


class MissingColumnError(MonitorDataError):
    """A column required by the feature schema is absent."""

    def __init__(self, column: str, where: str = "current data") -> None:
        self.column = column
        super().__init__(f"column {column!r} from the feature schema is missing in {where}")


class SourceNotFoundError(MonitorDataError):
    """A path, glob or URL matched no file."""


class IncompatibleDataError(MonitorDataError):
    """Data exists but cannot be interpreted (wrong types, unreadable file, bad schema)."""


class ProfileFormatError(MonitorDataError):
    """The reference profile file is missing, corrupt or of an unsupported version."""
