"""Built-in channel adapters; each registers through the `chanpub.channels` entry points."""
