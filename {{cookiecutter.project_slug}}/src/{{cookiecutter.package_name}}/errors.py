"""Errors that mean "the input is wrong" (params, data, settings): a message, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable

USER_ERROR_EXIT_CODE = 2


class UserError(ValueError):
    """Base of every error whose message tells the user what to fix."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main(); a UserError ends it with its message on stderr and exit code 2."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(USER_ERROR_EXIT_CODE)
