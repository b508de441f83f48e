"""``python -m dynastore.cli``: the ``dynastore`` command."""

import sys

from dynastore.cli import main

sys.exit(main())
