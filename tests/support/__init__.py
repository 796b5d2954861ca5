"""What the tests share, in one place; test modules import from here and never from one another.

- ``services``: real Mosquitto, Redis, nginx, Chromium and citywall processes on free loopback
  ports, as pytest fixtures (a plugin loaded by ``tests/conftest.py``).
- ``helpers``: waiting for a condition, ingest processes, recording sinks, payloads.
- ``auth``: known users, a logged-in session, an app to log in to (also a plugin).
- ``operations``: incidents and configs for the operations features.
- ``configs``: the shipped config written out with an edit.
- ``city``: a small day of city traffic and the stores' shared comparison.
- ``deploy``: the files of ``deploy/`` templated for a test.
"""
