"""CSV and GeoJSON renderings of the API's JSON representations.

Both render exactly the data the JSON response holds (after the serializers removed what the
reader may not see), so a format can never show more than the JSON does.

CSV: one row per list item, flat columns named by the view (`csv_columns`, documented in
the schema); nested objects are flattened with "_" (location.slug -> location_slug), a partial
date {"value", "precision"} becomes two columns (start_date, start_date_precision), lists of
plain values are joined with "; ".

GeoJSON (RFC 7946): a FeatureCollection for a list, a Feature for a detail; geometry is a
Point from the view's `geojson_point(item)`, or null; properties are the item's fields.
"""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer

from cabar_tracker.spreadsheet import cell, line_writer


def flatten(item: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if set(value) == {"value", "precision"}:
                flat[name] = value["value"]
                flat[f"{name}_precision"] = value["precision"]
            else:
                flat.update(flatten(value, f"{name}_"))
        elif isinstance(value, list):
            flat[name] = "; ".join(_list_cell(element) for element in value)
        else:
            flat[name] = value
    return flat


def _list_cell(element) -> str:
    if isinstance(element, dict):
        return str(element.get("id", ""))
    return "" if element is None else str(element)


def _items(data) -> list[dict]:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    if isinstance(data, list):
        return data
    return [data] if isinstance(data, dict) else []


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        view = renderer_context.get("view")
        request = renderer_context.get("request")
        rows = [flatten(item) for item in _items(data)]
        columns = view.get_csv_columns(request) if view is not None else sorted(rows[0])
        writer = line_writer()
        lines = [writer.writerow(columns)]
        for row in rows:
            lines.append(writer.writerow([cell(row.get(column)) for column in columns]))
        response = renderer_context.get("response")
        if response is not None and view is not None:
            name = getattr(view, "basename", None) or "export"
            response["Content-Disposition"] = f'inline; filename="{name}.csv"'
        return "".join(lines).encode(self.charset)


def point_geometry(point: tuple[float, float] | None) -> dict | None:
    if point is None:
        return None
    latitude, longitude = point
    # GeoJSON puts longitude first.
    return {"type": "Point", "coordinates": [longitude, latitude]}


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"

    def feature(self, view, item: dict) -> dict:
        return {
            "type": "Feature",
            "id": item.get("id"),
            "geometry": point_geometry(view.geojson_point(item)),
            "properties": item,
        }

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        view = (renderer_context or {}).get("view")
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            collection = {
                "type": "FeatureCollection",
                "features": [self.feature(view, item) for item in data["results"]],
            }
            # Paging links as foreign members (RFC 7946, 6.1) and in the Link header.
            for member in ("next", "previous", "count"):
                if member in data:
                    collection[member] = data[member]
            data = collection
        elif isinstance(data, dict):
            data = self.feature(view, data)
        return super().render(data, accepted_media_type, renderer_context)
