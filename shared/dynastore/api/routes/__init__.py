"""Routers of the HTTP API; every module defining ``router`` is included by ``api.app``."""
