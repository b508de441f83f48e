"""Use cases. They take ports, never a cloud SDK."""
