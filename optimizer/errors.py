"""One error hierarchy for the whole library.

Every error carries a message that says what to do. Third-party errors are translated where they
enter the library. The CLI prints ``str(error)`` as one line and exits with ``error.exit_code``.
"""

from __future__ import annotations


class OptimizerError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code: int = 1


class ConfigError(OptimizerError):
    """The configuration file or a command-line option is invalid."""

    exit_code = 2


class DataError(OptimizerError):
    """A dataset is missing, unreadable, or does not match its task."""

    exit_code = 2


class StoreError(OptimizerError):
    """The store could not be read or written."""


class SchemaVersionError(StoreError):
    """The database schema is older (or newer) than this code; run ``breed db upgrade``."""


class NotFoundError(OptimizerError):
    """A run, candidate, release or alias named by the user does not exist."""

    exit_code = 2


class LLMError(OptimizerError):
    """A model call failed after retries (provider error, timeout, malformed answer)."""


class BudgetExceeded(OptimizerError):
    """A budget (calls, tokens, USD, wall time) is used up; no further calls are made."""

    def __init__(self, kind: str, used: float, limit: float) -> None:
        self.kind, self.used, self.limit = kind, used, limit
        super().__init__(
            f"budget exhausted: {kind} used {used:g} of {limit:g}; "
            f"raise budget.max_{kind} in the config to continue"
        )


class OperatorError(OptimizerError):
    """A mutation operator could not produce a valid child (e.g. unparseable model output).

    The engine records the proposal as rejected with this message as its reason."""
