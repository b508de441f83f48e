"""Immutable timestamped versions (seed 004): ``index`` (the version records of an item, ``@latest``,
history) and ``publish`` (writing new versions). Import the modules themselves: ``index`` is used by
indexing, which ``publish`` uses."""
