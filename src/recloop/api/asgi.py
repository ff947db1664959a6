"""ASGI entry point for uvicorn (``recloop.api.asgi:app``)."""

from recloop.api.app import create_app

__all__ = ["app"]

app = create_app()
