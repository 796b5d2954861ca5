"""Shared test setup for the three folders (unit, integration, browser).

Everything the tests share lives in ``tests/support/``: the real-service fixtures in
``tests/support/services.py``, logging in in ``tests/support/auth.py``. Test modules import
from there and never from one another.
"""

import os

from layouts.i18n import STRICT_ENV

pytest_plugins = ["tests.support.services", "tests.support.auth"]

# A word missing in a language raises under the tests (the wall itself shows the key), and app
# processes the tests start inherit it.
os.environ[STRICT_ENV] = "1"
