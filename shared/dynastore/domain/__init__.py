"""Pydantic models and pure rules. No I/O and no cloud SDK here."""
