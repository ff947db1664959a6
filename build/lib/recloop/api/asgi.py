"""ASGI entry point for uvicorn (``recloop.api.asgi:app``); JSON logs per worker."""

from recloop.api.app import create_app
from recloop.monitoring.logs import configure_logging

__all__ = ["app"]

configure_logging(json=True)
app = create_app()
