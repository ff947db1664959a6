"""One error tree for recloop; each error knows the HTTP status it maps to.

The API maps every :class:`RecloopError` to a JSON response in one handler,
and the CLI prints the message and exits non-zero. Messages say what to fix.
"""

from __future__ import annotations

__all__ = [
    "BundleIntegrityError",
    "ConfigError",
    "ConflictError",
    "DataError",
    "DependencyUnavailableError",
    "ModelNotFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RecloopError",
    "StorageUnavailableError",
    "UnsupportedMediaError",
    "ValidationError",
]


class RecloopError(Exception):
    """Base class of every error recloop raises on purpose.

    ``code``: a stable machine-readable name (the ``error.code`` of an HTTP error body);
    ``field``: the input field at fault, when there is one (``query.year_min``, ``body.events.0``).
    """

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(RecloopError):
    """Input that breaks a rule (unknown item, rating out of range, ...)."""

    status_code = 422
    code = "validation_error"


class NotFoundError(RecloopError):
    """A user, item, experiment or model version that does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(RecloopError):
    """A request that contradicts the current state (e.g. duplicate name)."""

    status_code = 409
    code = "conflict"


class PermissionDeniedError(RecloopError):
    """An admin action without a valid admin API key."""

    status_code = 403
    code = "permission_denied"


class DataError(RecloopError):
    """A data file that is missing, truncated, corrupt or has the wrong checksum."""

    status_code = 500
    code = "data_error"


class BundleIntegrityError(DataError):
    """A model bundle file that is missing or whose checksum differs from the recorded one.

    ``field`` is the file's path inside the bundle (``ranker.txt``, ``index.faiss``, ...).
    """


class ConfigError(RecloopError):
    """Settings that cannot work together."""

    status_code = 500
    code = "config_error"


class ModelNotFoundError(RecloopError):
    """No trained model under the asked alias/version; the message says what to run."""

    status_code = 503
    code = "model_not_found"


class DependencyUnavailableError(RecloopError):
    """A configured server (Redis, MLflow, ...) is down; the message says what to do."""

    status_code = 503
    code = "dependency_unavailable"


class StorageUnavailableError(RecloopError):
    """The state store cannot take the write (disk full, read-only, server gone); nothing was applied."""

    status_code = 503
    code = "storage_unavailable"


class UnsupportedMediaError(RecloopError):
    """A body in a format the route does not take (e.g. ``text/plain`` events: a cross-site form)."""

    status_code = 415
    code = "unsupported_media_type"
