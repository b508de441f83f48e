"""Dynastore Assets: files in buckets → a searchable, versioned, STAC-compliant asset catalog."""

__version__ = "0.1.0"
