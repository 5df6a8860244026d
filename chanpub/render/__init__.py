"""Rendering shared by adapters: Markdown to safe HTML, text shaping, dates, templates."""
