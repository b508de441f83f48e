"""Validation of STAC documents against the STAC core JSON schemas bundled with pystac (offline),
and of GeoJSON geometries."""

from __future__ import annotations

from typing import Any, Literal

from dynastore.domain.stac_version import STAC_VERSION
from dynastore.errors import Invalid
from dynastore.ports import Doc

_VALIDATORS: dict[str, Any] = {}
_FAST: dict[str, Any] = {}


def _validator(kind: str) -> Any:
    """A jsonschema validator of a STAC core schema bundled with pystac, built once per process
    (pystac's own validator re-checks the schema and rebuilds its registry on every call)."""
    if kind not in _VALIDATORS:
        import jsonschema
        from pystac.validation.local_validator import get_local_schema_cache
        from referencing import Registry, Resource

        cache = get_local_schema_cache()
        registry: Any = Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in cache.items())
        folder = {"Item": "item", "Collection": "collection", "Catalog": "catalog"}[kind]
        uri = f"https://schemas.stacspec.org/v{STAC_VERSION}/{folder}-spec/json-schema/{folder}.json"
        schema = cache[uri]
        _VALIDATORS[kind] = jsonschema.validators.validator_for(schema)(schema, registry=registry)
    return _VALIDATORS[kind]


def _fast_check(kind: str) -> Any:
    """The same schema compiled to Python code by fastjsonschema (built on first use, once per
    process): about 20 times faster than jsonschema on a valid item. ``None`` when it cannot compile it."""
    if kind not in _FAST:
        import fastjsonschema
        from pystac.validation.local_validator import get_local_schema_cache

        cache = get_local_schema_cache()
        schema = _any_of_when_exclusive(_validator(kind).schema)

        def fetch(uri: str) -> Any:
            return _any_of_when_exclusive(cache[uri])

        try:
            handlers = {"https": fetch, "http": fetch}
            _FAST[kind] = fastjsonschema.compile(schema, handlers=handlers)
        except Exception:  # an unresolvable reference or keyword: jsonschema alone then
            _FAST[kind] = None
    return _FAST[kind]


def _any_of_when_exclusive(node: Any) -> Any:
    """A copy of a schema where each ``oneOf`` whose branches no value can match two of (they admit
    different JSON types, or objects whose required ``type`` takes different values: GeoJSON
    geometries) is an ``anyOf``: the same values pass, and the compiled check stops at the first
    branch that matches instead of trying all of them."""
    if isinstance(node, list):
        return [_any_of_when_exclusive(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _any_of_when_exclusive(v) for k, v in node.items()}
    branches = out.get("oneOf")
    if (
        isinstance(branches, list)
        and "anyOf" not in out
        and all(_disjoint(a, b) for i, a in enumerate(branches) for b in branches[i + 1 :])
    ):
        out["anyOf"] = out.pop("oneOf")
    return out


def _json_types(branch: Any) -> frozenset[str] | None:
    """The JSON types a schema admits, when it says (``integer`` counted as ``number``)."""
    kind = branch.get("type") if isinstance(branch, dict) else None
    kinds = [kind] if isinstance(kind, str) else kind
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        return None
    return frozenset("number" if k == "integer" else k for k in kinds)


def _type_tags(branch: Any) -> frozenset[Any] | None:
    """The values an object schema allows for its required ``type`` member (GeoJSON), when it says."""
    if _json_types(branch) != frozenset({"object"}) or "type" not in (branch.get("required") or []):
        return None
    tag = (branch.get("properties") or {}).get("type")
    if not isinstance(tag, dict):
        return None
    if "const" in tag:
        return frozenset([tag["const"]])
    enum = tag.get("enum")
    return frozenset(enum) if isinstance(enum, list) and all(isinstance(v, str) for v in enum) else None


def _disjoint(a: Any, b: Any) -> bool:
    types_a, types_b = _json_types(a), _json_types(b)
    if types_a is not None and types_b is not None and not types_a & types_b:
        return True
    tags_a, tags_b = _type_tags(a), _type_tags(b)
    return tags_a is not None and tags_b is not None and not tags_a & tags_b


def validate_stac(doc: Doc, kind: Literal["Item", "Collection", "Catalog"]) -> None:
    """Validate against the STAC core JSON schema bundled with pystac (offline); ``Invalid`` with the reason.

    Fast path: the compiled check passes a valid document; only a document it rejects gets
    jsonschema's full error search, whose best match is the reason (so the 400 detail is the same,
    and jsonschema stays the judge when the two disagree)."""
    import jsonschema

    fast = _fast_check(kind)
    if fast is not None:
        import fastjsonschema

        try:
            fast(doc)
            return
        except fastjsonschema.JsonSchemaException:
            pass
    best = jsonschema.exceptions.best_match(_validator(kind).iter_errors(doc))
    if best is not None:
        where = "/".join(str(p) for p in best.absolute_path)
        raise Invalid(f"not a valid STAC {kind}{f' at {where}' if where else ''}: {best.message}")


def check_geometry(value: Any, what: str) -> Any:
    """The shapely geometry of a GeoJSON ``value``; ``Invalid`` naming ``what`` if it is not one."""
    from shapely.geometry import shape

    if not isinstance(value, dict) or "type" not in value:
        raise Invalid(f"{what} must be a GeoJSON geometry")
    try:
        return shape(value)
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise Invalid(f"{what} is not a valid GeoJSON geometry: {exc}") from None
