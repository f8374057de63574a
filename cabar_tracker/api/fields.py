"""Serializer fields and the base classes every API serializer builds on."""

from __future__ import annotations

import datetime
import re

from django.urls import reverse
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from incidents.partial_dates import DatePrecision, PartialDate, truncate


def for_staff(context: dict) -> bool:
    """Whether the representation is the staff one. Views put `for_staff` in the context;
    without it (a serializer used elsewhere) the public representation is the default."""
    return bool(context.get("for_staff", False))


# A pk no record has, reversed to find where a detail address puts the pk.
_PLACEHOLDER_PK = 987654321


def api_url(context: dict, view_name: str, pk) -> str | None:
    if pk is None:
        return None
    # The address around the pk, reversed and made absolute once per response (a page of 50
    # incidents names some 200 records) and kept in the serializers' shared context.
    parts = context.setdefault("_api_url_parts", {})
    if view_name not in parts:
        path = reverse(f"api:{view_name}-detail", kwargs={"pk": _PLACEHOLDER_PK})
        request = context.get("request")
        absolute = request.build_absolute_uri(path) if request is not None else path
        parts[view_name] = absolute.split(str(_PLACEHOLDER_PK))
    prefix, suffix = parts[view_name]
    return f"{prefix}{pk}{suffix}"


def page_url(context: dict, path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


@extend_schema_field(OpenApiTypes.URI)
class ApiUrlField(serializers.Field):
    """The record's address in this API, by id (`/api/v1/people/12/`): never by slug, which
    is made from a name that may be withheld."""

    def __init__(self, view_name: str, **kwargs):
        self.view_name = view_name
        kwargs.setdefault("source", "pk")
        kwargs["read_only"] = True
        kwargs.setdefault("help_text", "This record in the API.")
        super().__init__(**kwargs)

    def to_representation(self, pk) -> str | None:
        return api_url(self.context, self.view_name, pk)


@extend_schema_field(OpenApiTypes.URI)
class PageUrlField(serializers.Field):
    """The record's public web page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        # Not read-only where the key may be absent (a withheld identity's slug-bearing page):
        # response schemas require every read-only field.
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("help_text", "This record's page on the website.")
        super().__init__(**kwargs)

    def to_representation(self, record) -> str:
        return page_url(self.context, record.get_absolute_url())


class LinkField(serializers.URLField):
    """A stored web address, or null when none is stored (the model keeps "" for none,
    which is not a URI)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:
        return value or None


@extend_schema_field({"type": "string", "nullable": True, "pattern": "^[A-Z]{2}$"})
class CountryCodeField(serializers.Field):
    """ISO 3166-1 alpha-2 code ("KG"), or null when unknown."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, country) -> str | None:
        code = getattr(country, "code", country)
        return code or None


def country_choices() -> list[tuple[str, str]]:
    """Every country once (COUNTRIES_FIRST repeats a few at the top of the model field's
    choices). Also SPECTACULAR_SETTINGS' CountryEnum, so the schema has one country enum."""
    return list(dict.fromkeys((country.code, country.name) for country in countries))


def country_input(**kwargs) -> serializers.ChoiceField:
    """An ISO 3166 country code on input ("KG")."""
    return serializers.ChoiceField(choices=country_choices(), **kwargs)


@extend_schema_field(OpenApiTypes.DOUBLE)
class CoordinateField(serializers.Field):
    """Latitude or longitude as a JSON number (not a string), null when unknown."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> float | None:
        return None if value is None else float(value)


@extend_schema_serializer(component_name="PartialDate")
class PartialDateSchema(serializers.Serializer):
    """A date known to a precision: {"value": "2022-01", "precision": "month"}. The value is
    the date at that precision (YYYY-MM-DD for day and approximate, YYYY-MM for month, YYYY
    for year); a date not known at all is null, not this object."""

    value = serializers.CharField(
        help_text=(
            "The date at its precision: YYYY-MM-DD for day and approximate, YYYY-MM for "
            "month, YYYY for year."
        )
    )
    precision = serializers.ChoiceField(
        choices=DatePrecision.choices,
        help_text="How precisely the date is known; 'approximate' means around that day.",
    )


_ISO_FORMS = {
    DatePrecision.DAY: re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    DatePrecision.APPROXIMATE: re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    DatePrecision.MONTH: re.compile(r"^\d{4}-\d{2}(-\d{2})?$"),
    DatePrecision.YEAR: re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$"),
}


@extend_schema_field(PartialDateSchema)
class PartialDateField(serializers.Field):
    """A date known to a precision, as one object: {"value": "2022-01", "precision": "month"}
    (`PartialDate.iso()`), or null when unknown. Reads and writes the model's pair of columns
    `<date_field>` and `<date_field>_precision`. On input a month or year may also be given
    as a full date inside it (2022-01-07 with precision month is stored as January 2022)."""

    default_error_messages = {
        "invalid": "Give an object with 'value' and 'precision', or null.",
        "precision": "Precision must be one of: {choices}.",
        "value": "For precision '{precision}' give the value as {form}.",
        "date": "'{value}' is not a real date.",
    }

    def __init__(self, date_field: str | None = None, **kwargs):
        self.date_field = date_field
        kwargs["source"] = "*"
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def bind(self, field_name: str, parent) -> None:
        super().bind(field_name, parent)
        self.date_field = self.date_field or field_name

    @property
    def precision_field(self) -> str:
        return f"{self.date_field}_precision"

    def to_representation(self, record) -> dict | None:
        partial = PartialDate.of(
            getattr(record, self.date_field), getattr(record, self.precision_field)
        )
        if partial is None:
            return None
        return {"value": partial.iso(), "precision": partial.precision}

    def validate_empty_values(self, data):
        if data is None:
            # null clears the date and its precision together (the model requires both or
            # neither); the source is "*", so the value is a dict of model attributes.
            return True, {self.date_field: None, self.precision_field: ""}
        return super().validate_empty_values(data)

    def to_internal_value(self, data) -> dict:
        if not isinstance(data, dict) or set(data) - {"value", "precision"}:
            self.fail("invalid")
        precision, value = data.get("precision"), data.get("value")
        if precision not in DatePrecision.values:
            self.fail("precision", choices=", ".join(DatePrecision.values))
        if not isinstance(value, str) or not _ISO_FORMS[precision].match(value):
            form = {"month": "YYYY-MM", "year": "YYYY"}.get(precision, "YYYY-MM-DD")
            self.fail("value", precision=precision, form=form)
        parts = [int(part) for part in value.split("-")] + [1, 1]
        try:
            day = datetime.date(parts[0], parts[1], parts[2])
        except ValueError:
            self.fail("date", value=value)
        return {self.date_field: truncate(day, precision), self.precision_field: precision}


class ReadSerializer(serializers.ModelSerializer):
    """Base of the read (response) serializers built from models.

    DRF drops `allow_blank` from read-only fields, so a choice stored as "" (a statement
    with no medium) would contradict the schema's enum; keeping it makes the schema say
    that "" may come.
    """

    def include_extra_kwargs(self, kwargs: dict, extra_kwargs: dict) -> dict:
        blank_choice = bool(kwargs.get("allow_blank") and kwargs.get("choices"))
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs


class StaffFieldsMixin:
    """Removes `Meta.staff_only_fields` from the public representation: the keys are absent,
    not null, so a public client cannot even tell they exist on a record."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not for_staff(self.context):
            for name in getattr(self.Meta, "staff_only_fields", ()):
                data.pop(name, None)
        return data


# Staff-only on every publishable record: its state and when it was first published.
PUBLICATION_FIELDS = ("publication_state", "published_at")
