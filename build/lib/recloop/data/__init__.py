"""MovieLens-100K as typed tables, from the GroupLens zip or the RecBole wheel."""

from recloop.data.movielens import GENRES, Dataset, event_order
from recloop.data.sources import fetch_dataset, load_dataset

__all__ = ["GENRES", "Dataset", "event_order", "fetch_dataset", "load_dataset"]
