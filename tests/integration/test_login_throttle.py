"""The login throttle behind several web workers: they count one address's wrong tries together.

Two apps on one Redis stand for two ``serve --workers`` processes. Counted per worker, an
address had ten wrong tries at each of them.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import requests

from dashboard.store.redis_store import RedisStore
from tests.support.auth import add_users, closed_config, running_app

pytestmark = pytest.mark.integration


def test_two_workers_on_one_redis_count_the_wrong_tries_together(redis_url: str) -> None:
    with ExitStack() as stack:
        stores = [RedisStore(redis_url, prefix="citywall") for _ in range(2)]
        for store in stores:
            stack.callback(store.close)
        creds = add_users(stores[0])["operator"]
        bases = [stack.enter_context(running_app(closed_config(), store)) for store in stores]

        def attempt(base: str, password: str) -> int:
            body = {"username": creds.name, "password": password}
            return requests.post(f"{base}/api/v1/login", json=body, headers={"Origin": base}, timeout=30).status_code

        wrong = [attempt(bases[n % 2], "salah") for n in range(10)]
        right = [attempt(base, creds.password) for base in bases]
    assert wrong == [401] * 10
    assert right == [429, 429]
