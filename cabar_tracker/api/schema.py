"""The OpenAPI schema generator of the API (drf-spectacular's AutoSchema, adjusted).

- Writes take the resource's write serializer and answer with its detail representation.
- Each format has its own response schema: JSON as serialized, CSV as text (its columns are
  listed in the operation's description), GeoJSON as a FeatureCollection (lists) or a
  Feature (details) whose properties are the JSON item.
- The error answers every operation can give are documented, so a client (and the
  schemathesis run in the tests) knows every status code it may see.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from cabar_tracker.idempotency import HEADER as IDEMPOTENCY_HEADER
from cabar_tracker.idempotency import MAX_KEY_LENGTH

WRITE_METHODS = {"POST", "PUT", "PATCH"}

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        'Either {"detail": "message"} or, for invalid input, the invalid fields or query '
        'parameters with their messages: {"date_after": ["Enter a valid date."]}.'
    ),
    "additionalProperties": True,
}


def _error(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
    if headers:
        response["headers"] = headers
    return response


def _header(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "schema": schema or {"type": "string"}}


def geojson_feature(properties: dict) -> dict:
    point = {
        "type": "object",
        "nullable": True,
        "description": "A Point at [longitude, latitude], or null when no place has coordinates.",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": ["Point"]},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
            },
        },
    }
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": point,
            "properties": properties,
        },
    }


class ApiAutoSchema(AutoSchema):
    def get_auth(self):
        """Reads need no token (anonymous readers see what is published), so a generated
        client must not demand one: `{}` in a read's security says "or none"."""
        auths = super().get_auth()
        if self.method in {"GET", "HEAD", "OPTIONS"} and {} not in auths:
            auths.append({})
        return auths

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in WRITE_METHODS | {"DELETE"}:
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
                    location=OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Any unique string (a UUID): the same write sent again with the same "
                        "key within a day is not done again; the first answer is repeated, "
                        "marked `Idempotent-Replayed: true`. A key used for another request "
                        "is a 422."
                    ),
                )
            )
        return parameters

    def _is_write(self) -> bool:
        return self.method in WRITE_METHODS and hasattr(self.view, "detail_serializer_class")

    def get_response_serializers(self):
        if self._is_write():
            return self.view.detail_serializer_class
        return super().get_response_serializers()

    def get_description(self) -> str:
        description = super().get_description()
        view = self.view
        if getattr(view, "action", None) == "list" and hasattr(view, "csv_columns_for"):
            public = view.csv_columns_for(for_staff=False)
            staff = [c for c in view.csv_columns_for(for_staff=True) if c not in public]
            description += (
                "\n\nFormats: `?format=json` (default), `?format=csv`"
                + (", `?format=geojson`" if "geojson" in self.map_renderers("format") else "")
                + ". The CSV holds every row of the filter in one streamed response "
                "(`stream=all`, its default), or one page with `page_size`, `cursor` or "
                "`stream=page` (the next page in the `Link` header); `bom=1` starts it with a "
                "UTF-8 byte order mark for Excel. CSV columns: "
                + ", ".join(f"`{c}`" for c in public)
                + ("; for staff also " + ", ".join(f"`{c}`" for c in staff) + "." if staff else ".")
            )
            if getattr(view, "csv_table", None):
                description += (
                    " These are the columns of the site's own download of this table, "
                    "described on the About page (/about/#exports); several values in a cell "
                    "are separated as described there."
                )
            else:
                description += (
                    " Nested objects are flattened with `_`; a partial date gives two columns "
                    "(`start_date`, `start_date_precision`); lists are joined with `; `."
                )
        return description

    def _resolve_path_parameters(self, variables) -> list[dict]:
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] == "id":
                # The route takes any segment only so a non-number gets a JSON 404.
                parameter["schema"] = {"type": "integer"}
                parameter["description"] = "The record's id (its `id`, and the end of its `url`)."
        return parameters

    def _get_pagination_parameters(self) -> list[dict]:
        parameters = super()._get_pagination_parameters()
        if not parameters or "csv" not in self.map_renderers("format"):
            return parameters
        return [
            *parameters,
            {
                "name": "stream",
                "in": "query",
                "required": False,
                "description": (
                    "CSV only. all (the default for CSV): every row of the filter in one "
                    "streamed response; page: one page, like JSON. Given with page_size or "
                    "cursor, only page."
                ),
                "schema": {"type": "string", "enum": ["all", "page"]},
            },
            {
                "name": "bom",
                "in": "query",
                "required": False,
                "description": (
                    "CSV only. 1: start the file with a UTF-8 byte order mark, so Excel reads "
                    "it as UTF-8."
                ),
                "schema": {"type": "boolean", "default": False},
            },
        ]

    def _get_format_parameters(self) -> list[dict]:
        parameters = super()._get_format_parameters()
        for parameter in parameters:
            parameter["description"] = (
                "Answer format, instead of an Accept header: json, csv (flat columns, see "
                "the description), geojson where offered. Errors are always JSON."
            )
        return parameters

    def _get_filter_parameters(self) -> list[dict]:
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            # Country filters list the countries of COUNTRIES_FIRST twice (at the top, then
            # in order); an enum's values must be unique.
            for schema in (parameter.get("schema", {}), parameter.get("schema", {}).get("items")):
                if isinstance(schema, dict) and "enum" in schema:
                    schema["enum"] = list(dict.fromkeys(schema["enum"]))
        return parameters

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content")
        if not content or not status_code.startswith("2"):
            return response
        if "text/csv" in content:
            content["text/csv"] = {"schema": {"type": "string", "description": "CSV, UTF-8."}}
        if "application/geo+json" in content:
            item = self.resolve_serializer(serializer, direction)
            feature = geojson_feature(item.ref)
            if self._is_list_view(serializer):
                schema = {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": feature},
                        "next": {"type": "string", "format": "uri", "nullable": True},
                        "previous": {"type": "string", "format": "uri", "nullable": True},
                        "count": {"type": "integer"},
                    },
                }
            else:
                schema = feature
            content["application/geo+json"] = {"schema": schema}
        return response

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        is_detail = "{id}" in self.path
        if is_detail and self.method == "GET" and "200" in responses:
            responses["200"].setdefault("headers", {}).update(
                {
                    "ETag": _header("Version of this representation, for If-None-Match/If-Match."),
                    "Last-Modified": _header("When the record (or what it embeds) last changed."),
                }
            )
            responses["304"] = {"description": "Not modified: If-None-Match named the ETag."}
        errors = {
            "400": _error("Invalid query parameter, cursor or input, named in the body."),
            "404": _error("No such record visible to you, or an unknown format."),
            "406": _error("None of the formats in the Accept header is offered."),
            "429": _error(
                "Too many requests.",
                {"Retry-After": _header("Seconds to wait.", {"type": "integer"})},
            ),
        }
        if self.method not in {"GET", "HEAD", "OPTIONS"}:
            errors["401"] = _error("No or invalid credentials (send Authorization: Token …).")
            errors["403"] = _error("Your account may not write these records (or publish).")
            errors["415"] = _error("Unsupported request body type.")
            errors["422"] = _error("The Idempotency-Key was already used for another request.")
        else:
            # A read needs no token, but a token that cannot be used (an unknown scheme, a
            # wrong key) is refused rather than read as anonymous.
            errors["401"] = _error(
                "Invalid credentials: an Authorization header with another scheme than "
                "Token (or Bearer), or an unknown key. Send none to read as anonymous."
            )
        if self.method in {"PUT", "PATCH", "DELETE"}:
            errors["412"] = _error("If-Match does not match the current ETag; nothing changed.")
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses
