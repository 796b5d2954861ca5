"""Tests that drive a real headless Chromium (and usually the services behind the page)."""
