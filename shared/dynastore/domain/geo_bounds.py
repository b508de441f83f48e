"""Bounds of common GeoJSON geometries without shapely (bulk loads compute one per item).

``simple_bounds`` answers only for geometries shapely would build without an error and whose
bounds it would give the same way (``Point``, ``LineString``, ``Polygon``, ``MultiPolygon`` with
2- or 3-number positions, one dimension per geometry, rings of at least 4 positions); for anything
else it answers None and the caller asks shapely (which also explains a bad geometry)."""

from __future__ import annotations

from typing import Any

Bounds = tuple[float, float, float, float]


def _positions(value: Any, least: int, dims: set[int]) -> tuple[list[Any], list[Any]] | None:
    """(xs, ys) of a list of at least ``least`` positions, each a list of 2 or 3 numbers (not bools)."""
    if type(value) is not list or len(value) < least:
        return None
    xs, ys = [], []
    for position in value:
        if type(position) is not list or not 2 <= len(position) <= 3:
            return None
        for number in position:
            if type(number) is not float and type(number) is not int:
                return None
        dims.add(len(position))
        xs.append(position[0])
        ys.append(position[1])
    return xs, ys


def _polygon(rings: Any, dims: set[int]) -> tuple[list[Any], list[Any]] | None:
    """The shell's (xs, ys) of a Polygon's rings (GEOS takes a polygon's envelope from its shell)."""
    if type(rings) is not list or not rings:
        return None
    shell = None
    for ring in rings:
        found = _positions(ring, 4, dims)
        if found is None:
            return None
        shell = shell or found
    return shell


def simple_bounds(geometry: Any) -> Bounds | None:
    """(minx, miny, maxx, maxy) of a plain GeoJSON geometry as shapely's ``shape(g).bounds`` gives
    it (floats); None when the geometry is not one of the plain forms (ask shapely then)."""
    if type(geometry) is not dict:
        return None
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    dims: set[int] = set()
    found: tuple[list[Any], list[Any]] | None
    if kind == "Point":
        found = _positions([coordinates], 1, dims)
    elif kind == "LineString":
        found = _positions(coordinates, 2, dims)
    elif kind == "Polygon":
        found = _polygon(coordinates, dims)
    elif kind == "MultiPolygon":
        if type(coordinates) is not list or not coordinates:
            return None
        xs: list[Any] = []
        ys: list[Any] = []
        for rings in coordinates:
            shell = _polygon(rings, dims)
            if shell is None:
                return None
            xs.extend(shell[0])
            ys.extend(shell[1])
        found = xs, ys
    else:
        return None
    if found is None or len(dims) != 1:
        return None
    xs, ys = found
    return float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))
