"""Online state for live events: the FeatureStore protocol and its two backends.

``memory`` keeps state in process, durable in SQLite (``<home>/state.db``);
``redis`` keeps it in a Redis server shared by every process. Choose with
``Settings.state`` and build with :func:`open_store`.
"""

from recloop.features.store import FeatureStore, UserLive, open_store

__all__ = ["FeatureStore", "UserLive", "open_store"]
