"""Backends: one folder each; nothing else imports their SDKs."""
