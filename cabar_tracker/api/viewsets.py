"""The base viewset every API resource builds on.

One class carries the rules every resource keeps, so each resource only says what is
particular to it (its querysets, serializers, filters, ordering and CSV columns):

- visibility comes from the resource's `visible_queryset()` (a `visible_to(user)` queryset),
  and what a representation may hold from its serializers (`for_staff` in their context);
- lists are keyset-paged (`pagination.KeysetPagination`) over `ordering`, except a list's
  CSV, which holds every row of the filter in one streamed response (read in keyset chunks)
  unless a page is asked for (`page_size` or `cursor`): a CSV reader (`pandas.read_csv`,
  a spreadsheet) sees no `next` link, so a first page alone would pass for the whole list;
- details answer with ETag / Last-Modified and 304 (`conditional.record_etag`); writes check
  If-Match (412 on a stale one) inside the transaction that saves, with the row locked;
- writes take the `write_serializer_class` and answer with the detail representation;
- errors are always JSON, whatever format was asked for.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from cabar_tracker.api.conditional import (
    content_etag,
    etag_matches,
    last_modified,
    record_etag,
)
from cabar_tracker.api.fields import PartialDateField, api_url
from cabar_tracker.api.pagination import KeysetPagination, truthy
from cabar_tracker.api.permissions import RecordAccess
from cabar_tracker.api.renderers import CSVRenderer, GeoJSONRenderer, flatten
from cabar_tracker.keyset import chunks
from cabar_tracker.publishing import can_see_unpublished, shown_to
from cabar_tracker.spreadsheet import (
    BOM,
    BOM_PARAMETER,
    bom_requested,
    cell,
    content_disposition,
    csv_download,
    line_writer,
)
from incidents import mirror, revisions

JSON_AND_CSV = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
JSON_CSV_AND_GEOJSON = [*JSON_AND_CSV, GeoJSONRenderer]
WRITE_ACTIONS = {"create", "update", "partial_update"}

# `?stream=all`: every row in one response (a CSV list's default); `?stream=page`: one page.
STREAM_PARAMETER = "stream"
STREAM_ALL, STREAM_PAGE = "all", "page"
CSV_TYPE = "text/csv; charset=utf-8"
# Rows read per step of a streamed CSV: each step costs the same few queries.
STREAM_CHUNK_SIZE = 500


def serializer_columns(serializer: serializers.BaseSerializer, prefix: str = "") -> list[str]:
    """The CSV columns of a serializer's items, named as `renderers.flatten` names them."""
    columns: list[str] = []
    for name, field in serializer.fields.items():
        column = f"{prefix}{name}"
        if isinstance(field, PartialDateField):
            columns += [column, f"{column}_precision"]
        elif isinstance(field, serializers.Serializer):
            columns += serializer_columns(field, f"{column}_")
        else:
            columns.append(column)
    return columns


def refuse_unknown_parameters(request, known_parameters: set[str]) -> None:
    """A misspelt filter (`?palce=almaty`) would otherwise be ignored and the whole list
    answered as if filtered: a silently wrong answer. Refuse it with a 400 naming it and
    the parameters the endpoint takes."""
    unknown = sorted(set(request.query_params) - known_parameters)
    if unknown:
        known = ", ".join(sorted(known_parameters))
        raise serializers.ValidationError(
            {name: [f"Unknown parameter. This list takes: {known}."] for name in unknown}
        )


class JsonErrorsMixin:
    """An error is not a table or a map: answer it in JSON, as the schema says, whatever
    format was asked for."""

    def handle_exception(self, exc) -> Response:
        response = super().handle_exception(exc)
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format in {"csv", "geojson"}:
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response


class RecordViewSet(
    JsonErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # Every resource inherits this (deny by default); one that overrides it says why.
    permission_classes = [RecordAccess]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    renderer_classes = JSON_AND_CSV
    # Any path segment reaches the view, so an id that is not a number gets the API's JSON
    # 404 rather than the site's HTML one.
    lookup_value_regex = r"[^/]+"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    # The resource's model. `queryset` (an empty one) is derived from it, for the router's
    # basename and the schema; the rows a request reads come from `visible_queryset()`.
    model: type[models.Model]
    list_serializer_class: type
    detail_serializer_class: type
    write_serializer_class: type
    # Keys of the list order; the paginator adds the primary key if it is missing.
    ordering: tuple[str, ...] = ("id",)
    # For a record public by use (places, organizations, posts): its `PublicUseKind`, so a
    # mirror's visit records what is public now before it reads (`incidents.mirror`).
    public_use_kind: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:
            cls.queryset = cls.model.objects.none()

    # --- what a resource defines ------------------------------------------------------------

    def visible_queryset(self) -> QuerySet:
        """The rows this request's user may see: the model's `visible_to(user)` for a
        publishable record, every row for a record that is always public (places,
        organizations). A resource with another rule overrides this."""
        manager = self.model.objects
        if hasattr(manager, "visible_to"):
            return manager.visible_to(self.request.user)
        return manager.all()

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        """`queryset` with what a list item shows (select_related / prefetch_related)."""
        return queryset

    def detail_queryset(self, queryset: QuerySet) -> QuerySet:
        """`queryset` with what a detail shows."""
        return self.list_queryset(queryset)

    def prepare(self, records: list, *, detail: bool) -> None:
        """Attach what cannot be prefetched (place ancestors) to a page or one record."""

    def embedded(self, record: models.Model) -> list[models.Model]:
        """The records a detail representation embeds, for its ETag."""
        return []

    def geojson_point(self, item: dict) -> tuple[float, float] | None:
        return None

    def shown(self, record: models.Model | None) -> models.Model | None:
        """`record` if this reader may see it (`cases.shown_to`), else None: a hidden
        related record must not change the ETag of what the reader sees either."""
        return record if record is not None and shown_to(record, self.request.user) else None

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def for_staff(self) -> bool:
        return can_see_unpublished(self.request.user)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["for_staff"] = self.for_staff
        return context

    def get_serializer_class(self) -> type:
        if self.action in WRITE_ACTIONS:
            return self.write_serializer_class
        if self.action == "list":
            return self.list_serializer_class
        return self.detail_serializer_class

    def get_queryset(self) -> QuerySet:
        queryset = self.visible_queryset()
        if self.action == "list":
            return self.list_queryset(queryset).order_by(*self.ordering)
        return self.detail_queryset(queryset)

    def get_object(self, *, lock: bool = False) -> models.Model:
        # The list filters do not apply to a detail (GenericAPIView would apply them).
        key = str(self.kwargs[self.lookup_field])
        if not key.isascii() or not key.isdigit():
            raise NotFound
        queryset = self.get_queryset()
        if lock:
            queryset = queryset.select_for_update(of=("self",))
        record = get_object_or_404(queryset, pk=int(key))
        self.check_object_permissions(self.request, record)
        return record

    def get_csv_columns(self, request) -> list[str]:
        """The columns of a CSV the renderer writes from JSON items (a record's detail)."""
        for_staff = can_see_unpublished(getattr(request, "user", None))
        return self.serializer_csv_columns(for_staff=for_staff)

    @classmethod
    def csv_columns_for(cls, *, for_staff: bool) -> list[str]:
        """The CSV columns of the list (the schema lists them). A resource whose rows are
        an export table (incidents, detentions, statements) names that table's columns."""
        return cls.serializer_csv_columns(for_staff=for_staff)

    @classmethod
    def serializer_csv_columns(cls, *, for_staff: bool) -> list[str]:
        """The list item's fields, flattened as the CSV renderer flattens them, without the
        staff-only ones for the public. Derived from the serializer so the columns, the data
        and the schema's description cannot drift."""
        serializer = cls.list_serializer_class(context={"for_staff": for_staff})
        columns = serializer_columns(serializer)
        if not for_staff:
            hidden = set(getattr(serializer.Meta, "staff_only_fields", ()))
            columns = [column for column in columns if column not in hidden]
        return columns

    def etag(self, record: models.Model, data=None) -> str:
        """Staff's ETag is the record's version (`record_etag`, which the If-Match of a write
        compares); the public's is a hash of the representation it receives (`data`), so it
        folds in nothing the public does not see."""
        if self.for_staff:
            return record_etag(record, for_staff=True, embedded=self.embedded(record))
        if data is None:
            data = self.detail_data(record)
        renderer = getattr(self.request, "accepted_renderer", None)
        return content_etag(data, variant=getattr(renderer, "format", ""))

    def detail_data(self, record: models.Model):
        return self.detail_serializer_class(record, context=self.get_serializer_context()).data

    def detail_response(self, record: models.Model, status_code: int = 200) -> Response:
        self.prepare([record], detail=True)
        data = self.detail_data(record)
        return Response(data, status=status_code, headers=self.version_headers(record, data))

    def version_headers(self, record: models.Model, data=None) -> dict[str, str]:
        headers = {"ETag": self.etag(record, data)}
        modified = last_modified(record, self.embedded(record))
        if modified:
            headers["Last-Modified"] = modified
        return headers

    # --- actions ----------------------------------------------------------------------------

    def known_parameters(self) -> set[str]:
        """The query parameters a list understands: its filters, paging and the format."""
        paginator = self.paginator
        known = {"format", paginator.cursor_query_param, paginator.page_size_query_param}
        known |= {paginator.count_query_param, STREAM_PARAMETER, BOM_PARAMETER}
        if self.filterset_class is not None:
            known |= set(self.filterset_class.base_filters)
        return known

    def list(self, request, *args, **kwargs) -> Response:
        refuse_unknown_parameters(request, self.known_parameters())
        if self.public_use_kind and "updated_since" in request.query_params:
            # Whatever this copy holds now, the removals feed can later say it left.
            mirror.bring_public_use_up_to_date([self.public_use_kind])
        every_row, bom = self.delivery(request)
        queryset = self.filter_queryset(self.get_queryset())
        if self.request.accepted_renderer.format == "csv":
            return self.csv_list(queryset, every_row=every_row, bom=bom)
        page = self.paginate_queryset(queryset)
        self.prepare(page, detail=False)
        data = self.list_serializer_class(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(data.data)

    def delivery(self, request) -> tuple[bool, bool]:
        """(every row in one response?, a byte order mark first?), from `stream` and `bom`.

        A CSV list holds every row unless a page is asked for (`page_size`, `cursor` or
        `stream=page`): `pandas.read_csv(url)` and spreadsheets read no `next` link, so a
        first page would pass silently for the whole list. JSON and GeoJSON are paged (their
        `next` is in the body); `stream=all` and `bom` are for CSV only, and refused
        elsewhere rather than ignored."""
        params = request.query_params
        is_csv = request.accepted_renderer.format == "csv"
        stream = params.get(STREAM_PARAMETER)
        paging = self.paginator.cursor_query_param, self.paginator.page_size_query_param
        asks_for_a_page = any(name in params for name in paging)
        errors: dict[str, list[str]] = {}
        if stream not in (None, STREAM_ALL, STREAM_PAGE):
            errors[STREAM_PARAMETER] = [
                "Use stream=all (every row in one response) or stream=page (one page)."
            ]
        elif stream == STREAM_ALL and not is_csv:
            errors[STREAM_PARAMETER] = [
                "stream=all is for CSV (format=csv); JSON lists are paged: follow next."
            ]
        elif stream == STREAM_ALL and asks_for_a_page:
            errors[STREAM_PARAMETER] = [
                "stream=all returns every row: leave out page_size and cursor, or ask for "
                "stream=page."
            ]
        bom = False
        try:
            bom = bom_requested(params.get(BOM_PARAMETER))
        except ValueError:
            errors[BOM_PARAMETER] = ["Use bom=1 for a UTF-8 byte order mark (Excel), or bom=0."]
        if bom and not is_csv:
            errors[BOM_PARAMETER] = ["bom is for CSV (format=csv)."]
        count = self.paginator.count_query_param
        try:
            # Checked here too: a streamed CSV has no page to count, but a bad value is a 400.
            truthy(params.get(count, ""), count)
        except serializers.ValidationError as error:
            errors.update(error.detail)
        if errors:
            raise serializers.ValidationError(errors)
        every_row = is_csv and stream != STREAM_PAGE and not asks_for_a_page
        return every_row, bom

    # --- the list as CSV --------------------------------------------------------------------

    def csv_queryset(self, queryset: QuerySet) -> QuerySet:
        """`queryset` (filtered, ordered) with what a CSV row reads; the list's by default."""
        return queryset

    def csv_lines(self, chunks_of_rows: Iterable[list], *, bom: bool) -> Iterator[str]:
        """The CSV of these rows: by default each list item's JSON, flattened as the CSV
        renderer flattens it (`renderers.flatten`), every cell through `spreadsheet.cell`."""
        columns = self.get_csv_columns(self.request)
        writer = line_writer()
        yield (BOM if bom else "") + writer.writerow(columns)
        context = self.get_serializer_context()
        for rows in chunks_of_rows:
            self.prepare(rows, detail=False)
            for item in self.list_serializer_class(rows, many=True, context=context).data:
                flat = flatten(item)
                yield writer.writerow([cell(flat.get(column)) for column in columns])

    def csv_list(self, queryset: QuerySet, *, every_row: bool, bom: bool) -> HttpResponse:
        """The list as CSV: every row, streamed in keyset chunks (memory stays flat however
        many), or one page with its `Link` header. Named for the resource and the filter."""
        queryset = self.csv_queryset(queryset)
        resource = self.basename_plural()
        query = self.request.query_params
        if every_row:
            rows = chunks(queryset, STREAM_CHUNK_SIZE)
            return csv_download(self.csv_lines(rows, bom=bom), resource=resource, query=query)
        page = self.paginate_queryset(queryset)
        response = HttpResponse("".join(self.csv_lines([page], bom=bom)), content_type=CSV_TYPE)
        response["Content-Disposition"] = content_disposition(resource, query, "csv")
        paged = self.get_paginated_response([])
        if "Link" in paged:
            response["Link"] = paged["Link"]
        return response

    def basename_plural(self) -> str:
        """`incidents`, `people`: the resource's name in its address, for file names."""
        return self.request.path.rstrip("/").rsplit("/", 1)[-1] or self.basename

    def retrieve(self, request, *args, **kwargs) -> Response:
        # A detail takes no filter: `?fields=` or a list's filter would otherwise be
        # ignored as silently.
        refuse_unknown_parameters(request, {"format"})
        record = self.get_object()
        self.prepare([record], detail=True)
        data = self.detail_data(record)
        headers = self.version_headers(record, data)
        if etag_matches(request.headers.get("If-None-Match"), headers["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(data, headers=headers)

    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            proposed = self.proposal_response(serializer, self.get_queryset().model())
            if proposed is not None:
                return proposed
            record = serializer.save()
        self.kwargs[self.lookup_field] = record.pk
        response = self.detail_response(self.get_object(), status.HTTP_201_CREATED)
        response["Location"] = api_url({"request": request}, self.basename, record.pk)
        return response

    def update(self, request, *args, partial: bool = False, **kwargs) -> Response:
        with transaction.atomic():
            record = self.get_object(lock=True)
            stale = self.stale_precondition(record)
            if stale is not None:
                return stale
            serializer = self.get_serializer(record, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            proposed = self.proposal_response(serializer, record)
            if proposed is not None:
                return proposed
            serializer.save()
        return self.detail_response(self.get_object())

    def proposal_response(self, serializer, record: models.Model) -> Response | None:
        """For a change to a public record by a user who may not publish: store it as a
        proposal for a reviewer (incidents.revisions) and answer 202 Accepted with it; the
        record, and so every public response, stays as it was. None for any other write."""
        user = self.request.user
        if not revisions.needs_review(record, user):
            return None
        record = copy.copy(record)
        many_to_many = {field.name for field in record._meta.many_to_many}
        links = {}
        for name, value in serializer.validated_data.items():
            if name in many_to_many:
                links[name] = [item.pk for item in value]
            else:
                setattr(record, name, value)
        revision = revisions.propose(record, user=user, links=links)
        if revision is None:
            return Response(
                {"detail": "Nothing changed: the record already says this.", "proposal": None},
                status=status.HTTP_200_OK,
            )
        return Response(
            {
                "detail": "This record is public: the change waits for a reviewer, and "
                "until it is published every response shows the record as it was.",
                "proposal": {
                    "id": revision.pk,
                    "action": revision.action,
                    "status": revision.status,
                    "changed": revision.changed_fields(),
                    "proposed_at": revision.created_at,
                    "based_on_version": revision.base_version,
                },
            },
            status=status.HTTP_202_ACCEPTED,
        )

    def stale_precondition(self, record: models.Model) -> Response | None:
        """412 when If-Match names another version than the current one (someone saved the
        record since the client read it); nothing is changed then."""
        if_match = self.request.headers.get("If-Match")
        if if_match is None:
            return None
        self.prepare([record], detail=True)
        current = self.etag(record)
        if etag_matches(if_match, current):
            return None
        return Response(
            {
                "detail": "The record changed since you read it (If-Match does not match its "
                "current ETag). Read it again and reapply your change."
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
            headers={"ETag": current},
        )

    # --- responses --------------------------------------------------------------------------

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Staff and the public get different bodies from the same URL.
        patch_vary_headers(response, ["Accept", "Authorization"])
        # An error raised before authentication ran (an unknown ?format=) must not
        # authenticate now: a refused Authorization header would raise again, here.
        try:
            authenticated = request.user.is_authenticated
        except APIException:
            authenticated = True  # it named someone: keep the response private
        if authenticated:
            patch_cache_control(response, private=True)
        return response


class ArchiveMixin:
    """DELETE archives a publishable record (sets `archived_at`); nothing is deleted. It then
    leaves every list and detail; it is restored on the staff pages (a published record by a
    reviewer)."""

    http_method_names = [*RecordViewSet.http_method_names, "delete"]

    def destroy(self, request, *args, **kwargs) -> Response:
        with transaction.atomic():
            record = self.get_object(lock=True)
            stale = self.stale_precondition(record)
            if stale is not None:
                return stale
            if not RecordAccess.may_change_publication(
                request.user, was_published=record.is_published, will_be_published=False
            ):
                raise PermissionDenied("Archiving a published record needs a publisher.")
            record.archived_at = timezone.now()
            record.save(update_fields=["archived_at", "updated_at"])
        return Response(status=status.HTTP_204_NO_CONTENT)
