"""The HTTP API (FastAPI): thin routes over :mod:`recloop.serving`."""
