"""HTTP API tests."""
