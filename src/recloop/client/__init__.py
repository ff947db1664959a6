"""The typed Python client of the recloop HTTP API, used by the CLI, the simulator and the replay.

It sits below :mod:`recloop.api` in the import graph (it never imports the server): its
results are the API's own response models (:mod:`recloop.client.models`), validated from JSON.
"""

from recloop.client.errors import ApiError, ServerUnreachableError
from recloop.client.http import DEFAULT_URL, RecloopClient

__all__ = ["DEFAULT_URL", "ApiError", "RecloopClient", "ServerUnreachableError"]
