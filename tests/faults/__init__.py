"""Faults, kills and concurrent runs against real servers on loopback."""
