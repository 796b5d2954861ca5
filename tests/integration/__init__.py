"""Tests against a real Mosquitto, Redis, nginx or citywall process, started on free loopback ports."""
