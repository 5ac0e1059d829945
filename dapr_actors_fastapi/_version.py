"""The package's version (a leaf, so the dev sidecar's CLI can print it without the app side)."""

__version__ = "0.1.0"
