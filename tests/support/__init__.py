"""Helpers shared by several test folders (importable as ``support``: ``tests/`` is on the path)."""
