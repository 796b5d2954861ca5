"""Tests that start no real outside process: no broker, no Redis, no browser, no server process."""
