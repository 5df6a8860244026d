"""Hypothesis: generated releases and configs, valid and broken, always end cleanly."""
