"""The splits of the P1 and P2 protocols (shared/EVALUATION.md).

All functions take interactions already in the canonical event order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["prequential_split", "temporal_user_split"]


def temporal_user_split(
    interactions: pd.DataFrame, test_fraction: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, the last ``max(1, round(f * n))`` interactions in time order are test."""
    pos = interactions.groupby("user_id", sort=False).cumcount().to_numpy()
    n = interactions.groupby("user_id", sort=False)["user_id"].transform("size").to_numpy()
    n_test = np.maximum(1, np.round(test_fraction * n))  # half to even, as Python's round
    is_test = pos >= n - n_test
    return (
        interactions[~is_test].reset_index(drop=True),
        interactions[is_test].reset_index(drop=True),
    )


def prequential_split(
    interactions: pd.DataFrame, bootstrap_fraction: float = 0.8
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First ``bootstrap_fraction`` of all events (time order) and the rest to replay."""
    cut = round(bootstrap_fraction * len(interactions))
    return (
        interactions.iloc[:cut].reset_index(drop=True),
        interactions.iloc[cut:].reset_index(drop=True),
    )
