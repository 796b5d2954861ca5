"""Shared test setup: the real-service fixtures live in tests/services.py, logging in in
tests/auth_helpers.py."""

pytest_plugins = ["tests.services", "tests.auth_helpers"]
