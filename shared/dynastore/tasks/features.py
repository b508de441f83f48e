"""Tabular and vector files as features: CSV (lon/lat or WKT), GeoJSON, GeoParquet.

Pure functions on local files, shared by the ``ingestion`` and ``convert`` tasks. Geometries are
read as WGS84 longitude/latitude (GeoJSON's and GeoParquet's default CRS).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from dynastore.domain import time as dtime
from dynastore.domain.ids import ID_PATTERN, slug
from dynastore.errors import DynastoreError, Invalid

if TYPE_CHECKING:  # shapely is imported where it is used: the API's cold start does not pay for it
    from shapely.geometry.base import BaseGeometry

TableFormat = Literal["csv", "geojson", "geoparquet"]
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkb")
MEDIA_TYPES: dict[str, TableFormat] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
    "application/json": "geojson",
    "application/vnd.apache.parquet": "geoparquet",
    "application/x-parquet": "geoparquet",
    "application/parquet": "geoparquet",
}
EXTENSIONS: dict[str, TableFormat] = {
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".parquet": "geoparquet",
    ".geoparquet": "geoparquet",
}
FORMAT_MEDIA_TYPES: dict[TableFormat, str] = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "geoparquet": "application/vnd.apache.parquet",
}


class ColumnMapping(BaseModel):
    """Which source columns make an item's id, time, geometry and properties.

    Omitted entries are inferred: lon/lat from columns named lon/lng/longitude/x and
    lat/latitude/y, WKT from wkt/geometry/geom, datetime from a ``datetime`` column; every other
    column becomes a property.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, description="column holding the item id (default: feature id or row number)")
    datetime: str | None = Field(default=None, description="column holding the item datetime")
    start_datetime: str | None = None
    end_datetime: str | None = None
    geometry: str | None = Field(default=None, description="column holding the geometry as WKT, WKB or GeoJSON")
    lon: str | None = Field(default=None, validation_alias=AliasChoices("lon", "x", "longitude"))
    lat: str | None = Field(default=None, validation_alias=AliasChoices("lat", "y", "latitude"))
    properties: list[str] | dict[str, str] | None = Field(
        default=None,
        description="columns to keep as properties (a list, or a dict column → property name); default all",
    )


@dataclass
class SourceRow:
    """One record of a source file, before mapping. ``number`` is 1-based."""

    number: int
    values: dict[str, Any]
    geometry: BaseGeometry | None = None
    feature_id: Any = None


@dataclass
class Feature:
    id: str
    geometry: dict[str, Any] | None
    bbox: list[float] | None
    properties: dict[str, Any]

    def to_geojson(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": "Feature",
            "id": self.id,
            "geometry": self.geometry,
            "properties": self.properties,
        }
        if self.bbox:
            doc["bbox"] = self.bbox
        return doc


def detect_format(path: Path, media_type: str | None = None, explicit: str | None = None) -> TableFormat:
    if explicit:
        if explicit not in FORMAT_MEDIA_TYPES:
            raise Invalid(f"format {explicit!r} is not one of csv, geojson, geoparquet")
        return explicit  # type: ignore[return-value]
    if media_type:
        found = MEDIA_TYPES.get(media_type.split(";", 1)[0].strip().lower())
        if found:
            return found
    found = EXTENSIONS.get(path.suffix.lower())
    if found:
        return found
    raise Invalid(
        f"cannot tell the format of {path.name!r} (type {media_type!r}); expected CSV, GeoJSON or GeoParquet, "
        "or pass `format`"
    )


# ---------------------------------------------------------------------------------------- reading


def read_rows(path: Path, fmt: TableFormat) -> tuple[int, Iterator[SourceRow]]:
    """(number of records, an iterator over them)."""
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "geojson":
        return _read_geojson(path)
    return _read_geoparquet(path)


def _read_csv(path: Path) -> tuple[int, Iterator[SourceRow]]:
    with path.open("rb") as handle:
        total = max(0, sum(1 for _ in handle) - 1)

    def rows() -> Iterator[SourceRow]:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise Invalid(f"{path.name}: the CSV file has no header row")
            for number, raw in enumerate(reader, start=1):
                if None in raw:
                    raise Invalid(f"{path.name}: row {number} has more values than the header has columns")
                yield SourceRow(number=number, values={k: _typed(v) for k, v in raw.items()})

    return total, rows()


def _typed(value: str | None) -> Any:
    """CSV text → int, float or the text itself; empty → None."""
    if value is None:
        return None
    text = value.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _read_geojson(path: Path) -> tuple[int, Iterator[SourceRow]]:
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"{path.name}: not valid JSON: {exc}") from exc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, list):
        features = doc
    else:
        raise Invalid(f"{path.name}: expected a GeoJSON FeatureCollection or Feature")

    def rows() -> Iterator[SourceRow]:
        from shapely.geometry import shape

        for number, feature in enumerate(features, start=1):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise Invalid(f"{path.name}: feature {number} is not a GeoJSON Feature")
            geometry = None
            if feature.get("geometry"):
                try:
                    geometry = shape(feature["geometry"])
                except Exception as exc:  # shapely raises several types for bad GeoJSON
                    raise Invalid(f"{path.name}: feature {number} has an invalid geometry: {exc}") from exc
            yield SourceRow(number, dict(feature.get("properties") or {}), geometry, feature.get("id"))

    return len(features), rows()


def _read_geoparquet(path: Path) -> tuple[int, Iterator[SourceRow]]:
    """Rows of a (Geo)Parquet file, read from an open handle of that one file.

    pyarrow gets a file object, never a path or URI, so it cannot resolve a filesystem (s3://, gs://,
    hdfs://) nor open another file a footer names: only the asset's own bytes are read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = path.open("rb")
    try:
        parquet = pq.ParquetFile(handle)
    except Exception as exc:  # pyarrow.ArrowInvalid and friends
        handle.close()
        raise Invalid(f"{path.name}: not a readable Parquet file: {exc}") from exc
    geo_column, encoding = _geo_column(parquet.schema_arrow)
    total = parquet.metadata.num_rows

    def batches() -> Iterator[Any]:
        try:
            reader = parquet.iter_batches(batch_size=4096)
            while True:
                try:
                    batch = next(reader)
                except StopIteration:
                    return
                except (OSError, pa.ArrowException) as exc:
                    raise Invalid(f"{path.name}: unreadable Parquet data: {exc}") from exc
                yield batch
        finally:
            handle.close()

    def rows() -> Iterator[SourceRow]:
        number = 0
        for batch in batches():
            columns = batch.to_pydict()
            geometries = columns.pop(geo_column, None) if geo_column else None
            names = list(columns)
            for index in range(batch.num_rows):
                number += 1
                geometry = None
                if geometries is not None and geometries[index] is not None:
                    geometry = _parse_geometry(geometries[index], encoding, f"{path.name}: row {number}")
                values = {name: _plain(columns[name][index]) for name in names}
                yield SourceRow(number, values, geometry)

    return total, rows()


def _geo_column(schema: Any) -> tuple[str | None, str]:
    metadata = schema.metadata or {}
    geo = metadata.get(b"geo")
    if geo:
        info = json.loads(geo)
        column = info.get("primary_column", "geometry")
        encoding = str(info.get("columns", {}).get(column, {}).get("encoding", "WKB")).upper()
        return column, encoding
    for name in schema.names:
        if name.lower() in WKT_NAMES:
            import pyarrow as pa

            kind = schema.field(name).type
            return name, "WKB" if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) else "WKT"
    return None, "WKB"


def _plain(value: Any) -> Any:
    """Arrow scalars → JSON-ready Python values."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _parse_geometry(value: Any, encoding: str, where: str) -> BaseGeometry:
    import shapely
    from shapely.geometry import shape

    try:
        if isinstance(value, (bytes, bytearray)):
            return shapely.from_wkb(bytes(value))
        if isinstance(value, dict):
            return shape(value)
        text = str(value).strip()
        if text.startswith("{"):
            return shape(orjson.loads(text))
        if encoding == "WKB" or _is_hex(text):
            return shapely.from_wkb(bytes.fromhex(text))
        return shapely.from_wkt(text)
    except Exception as exc:  # shapely.errors.GEOSException, ValueError, JSON errors
        raise Invalid(f"{where}: cannot read geometry {str(value)[:60]!r}: {exc}") from exc


def _is_hex(text: str) -> bool:
    return len(text) >= 10 and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)


# ---------------------------------------------------------------------------------------- mapping


@dataclass
class _Resolved:
    id: str | None
    datetime: str | None
    start_datetime: str | None
    end_datetime: str | None
    geometry: str | None
    lon: str | None
    lat: str | None


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _resolve(mapping_: ColumnMapping, columns: list[str], has_source_geometry: bool) -> _Resolved:
    for name in ("id", "datetime", "start_datetime", "end_datetime", "geometry", "lon", "lat"):
        column = getattr(mapping_, name)
        if column is not None and column not in columns:
            raise Invalid(
                f"column_mapping.{name}: column {column!r} is not in the file (columns: {', '.join(columns)})"
            )
    lon, lat, geometry = mapping_.lon, mapping_.lat, mapping_.geometry
    if (lon is None) != (lat is None):
        raise Invalid("column_mapping needs both lon and lat, or neither")
    if geometry is None and lon is None and not has_source_geometry:
        lon, lat = _find(columns, LON_NAMES), _find(columns, LAT_NAMES)
        if lon is None or lat is None:
            lon = lat = None
            geometry = _find(columns, WKT_NAMES)
    return _Resolved(
        id=mapping_.id,
        datetime=mapping_.datetime or (_find(columns, ("datetime",)) if mapping_.start_datetime is None else None),
        start_datetime=mapping_.start_datetime,
        end_datetime=mapping_.end_datetime,
        geometry=geometry,
        lon=lon,
        lat=lat,
    )


def to_features(
    rows: Iterator[SourceRow],
    column_mapping: ColumnMapping | None = None,
    *,
    id_prefix: str = "row",
    default_datetime: str | None = None,
    source: str = "file",
) -> Iterator[Feature]:
    """Map source rows to features; ``Invalid`` (naming the row) on the first bad one."""
    import shapely

    column_mapping = column_mapping or ColumnMapping()
    resolved: _Resolved | None = None
    seen: dict[str, int] = {}
    for row in rows:
        if resolved is None:
            resolved = _resolve(column_mapping, list(row.values), row.geometry is not None)
        where = f"{source}: row {row.number}"
        values = row.values
        geometry = row.geometry
        if resolved.geometry is not None and values.get(resolved.geometry) is not None:
            geometry = _parse_geometry(values[resolved.geometry], "WKT", where)
        elif resolved.lon is not None and resolved.lat is not None:
            geometry = _point(values.get(resolved.lon), values.get(resolved.lat), where)
        feature_id = _feature_id(row, resolved, id_prefix, where)
        if feature_id in seen:
            raise Invalid(f"{where}: item id {feature_id!r} repeats row {seen[feature_id]}")
        seen[feature_id] = row.number
        properties = _properties(values, column_mapping, resolved)
        _set_time(properties, values, resolved, default_datetime, where)
        if geometry is not None and geometry.is_empty:
            geometry = None
        yield Feature(
            id=feature_id,
            geometry=orjson.loads(shapely.to_geojson(geometry)) if geometry is not None else None,
            bbox=[float(v) for v in geometry.bounds] if geometry is not None else None,
            properties=properties,
        )


def _point(lon: Any, lat: Any, where: str) -> BaseGeometry | None:
    import shapely

    if lon is None and lat is None:
        return None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{where}: lon/lat {lon!r}, {lat!r} are not numbers") from exc
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise Invalid(f"{where}: lon/lat {x}, {y} are outside WGS84 bounds (swap the columns?)")
    return shapely.Point(x, y)


def _feature_id(row: SourceRow, resolved: _Resolved, prefix: str, where: str) -> str:
    import re

    raw: Any = row.values.get(resolved.id) if resolved.id else row.feature_id
    if raw is None or str(raw).strip() == "":
        if resolved.id:
            raise Invalid(f"{where}: the id column {resolved.id!r} is empty")
        return f"{prefix}-{row.number}"
    text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    return text if re.match(ID_PATTERN, text) else slug(text)


def _properties(values: dict[str, Any], column_mapping: ColumnMapping, resolved: _Resolved) -> dict[str, Any]:
    used = {resolved.id, resolved.datetime, resolved.start_datetime, resolved.end_datetime, resolved.geometry}
    used |= {resolved.lon, resolved.lat}
    chosen = column_mapping.properties
    if chosen is None:
        return {k: v for k, v in values.items() if k not in used}
    if isinstance(chosen, list):
        missing = [c for c in chosen if c not in values]
        if missing:
            raise Invalid(f"column_mapping.properties: columns not in the file: {', '.join(missing)}")
        return {c: values[c] for c in chosen}
    missing = [c for c in chosen if c not in values]
    if missing:
        raise Invalid(f"column_mapping.properties: columns not in the file: {', '.join(missing)}")
    return {name: values[column] for column, name in chosen.items()}


def _set_time(
    properties: dict[str, Any], values: dict[str, Any], resolved: _Resolved, default: str | None, where: str
) -> None:
    def parse(column: str) -> str | None:
        raw = values.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        try:
            return dtime.normalize(str(raw), f"{where}: {column}")
        except DynastoreError:
            raise
        except Exception as exc:
            raise Invalid(f"{where}: {column} {raw!r} is not a date-time") from exc

    if resolved.start_datetime or resolved.end_datetime:
        start = parse(resolved.start_datetime) if resolved.start_datetime else None
        end = parse(resolved.end_datetime) if resolved.end_datetime else None
        if start is None or end is None:
            raise Invalid(f"{where}: start_datetime and end_datetime are both needed")
        properties.update(datetime=None, start_datetime=start, end_datetime=end)
        return
    value = parse(resolved.datetime) if resolved.datetime else None
    properties["datetime"] = value or default or dtime.now_iso()


# ---------------------------------------------------------------------------------------- writing


def write_geojson(features: Iterator[Feature], path: Path) -> int:
    """A FeatureCollection, streamed. Returns the number of features."""
    count = 0
    with path.open("wb") as out:
        out.write(b'{"type":"FeatureCollection","features":[')
        for feature in features:
            if count:
                out.write(b",")
            out.write(orjson.dumps(feature.to_geojson()))
            count += 1
        out.write(b"]}")
    return count


def write_geoparquet(features: Iterator[Feature], path: Path) -> int:
    """GeoParquet 1.1 (WKB geometry column ``geometry``, CRS84). Returns the number of features."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely
    from shapely.geometry import shape

    rows = list(features)
    names: list[str] = []
    for feature in rows:
        for key in feature.properties:
            if key not in names:
                names.append(key)
    columns: dict[str, Any] = {"id": pa.array([f.id for f in rows], pa.string())}
    for name in names:
        values = [f.properties.get(name) for f in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    geometries = [shape(f.geometry) if f.geometry else None for f in rows]
    columns["geometry"] = pa.array([shapely.to_wkb(g) if g is not None else None for g in geometries], pa.binary())
    present = [g for g in geometries if g is not None]
    geo_meta: dict[str, Any] = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": sorted({g.geom_type for g in present}),
                **({"bbox": list(shapely.total_bounds(present))} if present else {}),
            }
        },
    }
    table = pa.table(columns).replace_schema_metadata({b"geo": json.dumps(geo_meta).encode()})
    pq.write_table(table, path)
    return len(rows)


def union_bbox(bounds: list[float] | None, bbox: list[float] | None) -> list[float] | None:
    """``bounds`` grown to cover a 2D ``bbox`` (None: nothing yet / nothing to add)."""
    if not bbox:
        return bounds
    if bounds is None:
        return list(bbox)
    return [min(bounds[0], bbox[0]), min(bounds[1], bbox[1]), max(bounds[2], bbox[2]), max(bounds[3], bbox[3])]


def summarize(features: Iterator[Feature]) -> dict[str, Any]:
    """Feature count, geometry types, bbox and property names (the vector side of ``gdalinfo``)."""
    count = 0
    types: set[str] = set()
    names: list[str] = []
    bounds: list[float] | None = None
    for feature in features:
        count += 1
        if feature.geometry:
            types.add(str(feature.geometry["type"]))
        bounds = union_bbox(bounds, feature.bbox)
        for key in feature.properties:
            if key not in names:
                names.append(key)
    return {"feature_count": count, "geometry_types": sorted(types), "bbox": bounds, "properties": names}
