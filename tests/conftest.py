"""Shared test setup: the real-service fixtures live in tests/services.py."""

pytest_plugins = ["tests.services"]
