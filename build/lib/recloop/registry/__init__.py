"""Model registry over MLflow: versions, ``champion``/``challenger`` aliases, rollback.

Build one with :func:`registry_from_settings` (embedded SQLite under
``$RECLOOP_HOME`` unless ``MLFLOW_TRACKING_URI`` names a server).
"""

from recloop.registry.mlflow_registry import ModelRegistry, registry_from_settings
from recloop.registry.models import (
    CHALLENGER,
    CHAMPION,
    ModelVersionInfo,
    PromotionAction,
    PromotionResult,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "ModelRegistry",
    "ModelVersionInfo",
    "PromotionAction",
    "PromotionResult",
    "registry_from_settings",
]
