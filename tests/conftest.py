"""Shared test setup: the real-service fixtures live in tests/services.py, logging in in
tests/auth_helpers.py."""

import os

from layouts.i18n import STRICT_ENV

pytest_plugins = ["tests.services", "tests.auth_helpers"]

# A word missing in a language raises under the tests (the wall itself shows the key), and app
# processes the tests start inherit it.
os.environ[STRICT_ENV] = "1"
