"""One error tree for recloop; each error knows the HTTP status it maps to.

The API maps every :class:`RecloopError` to a JSON response in one handler,
and the CLI prints the message and exits non-zero. Messages say what to fix.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "DataError",
    "DependencyUnavailableError",
    "ModelNotFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RecloopError",
    "ValidationError",
]


class RecloopError(Exception):
    """Base class of every error recloop raises on purpose."""

    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(RecloopError):
    """Input that breaks a rule (unknown item, rating out of range, ...)."""

    status_code = 422


class NotFoundError(RecloopError):
    """A user, item, experiment or model version that does not exist."""

    status_code = 404


class ConflictError(RecloopError):
    """A request that contradicts the current state (e.g. duplicate name)."""

    status_code = 409


class PermissionDeniedError(RecloopError):
    """An admin action without a valid admin API key."""

    status_code = 403


class DataError(RecloopError):
    """A data file that is missing, truncated, corrupt or has the wrong checksum."""

    status_code = 500


class ConfigError(RecloopError):
    """Settings that cannot work together."""

    status_code = 500


class ModelNotFoundError(RecloopError):
    """No trained model under the asked alias/version; the message says what to run."""

    status_code = 503


class DependencyUnavailableError(RecloopError):
    """A configured server (Redis, MLflow, ...) is down; the message says what to do."""

    status_code = 503
