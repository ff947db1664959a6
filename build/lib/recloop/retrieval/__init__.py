"""Candidate generators (popularity, item-kNN, ALS, EASE) and the vector index."""

from recloop.retrieval.als import ALSScorer
from recloop.retrieval.base import BaseScorer, TrainData, top_k
from recloop.retrieval.ease import EASEScorer
from recloop.retrieval.itemknn import ItemKNNScorer
from recloop.retrieval.popular import PopularScorer
from recloop.retrieval.session import ScorerSession

__all__ = [
    "ALSScorer",
    "BaseScorer",
    "EASEScorer",
    "ItemKNNScorer",
    "PopularScorer",
    "ScorerSession",
    "TrainData",
    "top_k",
]
