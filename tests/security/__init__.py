"""Hostile input and secrets: injection, template sandbox, paths, leaks, TLS."""
