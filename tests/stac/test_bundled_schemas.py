"""The STAC schemas the item check compiles are pystac's bundled ones, read without importing
jsonschema (which only a rejected document needs)."""

from __future__ import annotations

import subprocess
import sys

from pystac.validation.local_validator import get_local_schema_cache

from dynastore.services.stac.validation import bundled_schemas


def test_the_bundled_schemas_are_pystacs_local_schema_cache() -> None:
    # GIVEN pystac's own offline schema cache
    # WHEN the schemas are read from pystac's package data directly
    # THEN they are the same schemas under the same URIs
    assert bundled_schemas() == get_local_schema_cache()


def test_a_valid_item_is_checked_without_importing_jsonschema() -> None:
    # GIVEN a fresh process
    code = (
        "import sys\n"
        "from dynastore.services.stac.validation import validate_stac\n"
        "validate_stac({'type': 'Feature', 'stac_version': '1.1.0', 'id': 'a', 'geometry': None,"
        " 'properties': {'datetime': '2024-01-01T00:00:00Z'}, 'links': [], 'assets': {}}, 'Item')\n"
        "print('jsonschema' in sys.modules)\n"
    )
    # WHEN it checks a valid item
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # THEN jsonschema (~0.1 s to import) was never imported
    assert out.strip() == "False"
