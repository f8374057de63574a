"""The history of any record: who changed what and when, and going back to an earlier version.

One page serves every history-tracked model of the domain apps
(/staff/history/<app_label>/<model_name>/<pk>/). Each entry shows its author, time, type and a
readable diff: field labels, choices by their label, related records by name, sources
listed. The plain fields are compared by django-simple-history's `diff_against`; the names of
related records and the many-to-many links are read in one query per related model and per
link table for the whole page, so the page's query count does not grow with its entries.

Reverting (reviewers, `incidents.revert_record`) copies the field values of an earlier
version back onto the record and saves it through `save_if_current`, so it is refused if the
record changed since the page was opened, and is itself a new history entry.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from simple_history.utils import get_m2m_reverse_field_name

from accounts import security_log
from cabar_tracker.history import StaleVersionError, save_if_current
from cabar_tracker.parameters import MAX_DATABASE_INTEGER, page_parameter, parse_integer
from cabar_tracker.staff.access import staff_required
from incidents.partial_dates import PartialDate
from incidents.workflow import missing_for_publication

# Only the domain's records have a history page; users, tokens and sessions do not.
HISTORY_APPS = ("incidents", "people")
ENTRIES_PER_PAGE = 50
REVERT_PERMISSION = "incidents.revert_record"

# What a revert leaves as it is: where the record stands in the workflow is changed with the
# state buttons (which check completeness), not by going back to an old version.
KEPT_ON_REVERT = ("publication_state", "published_at", "archived_at", "created_at")

HISTORY_TYPES = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
EMPTY = "—"


def history_model_for(app_label: str, model_name: str) -> type[models.Model]:
    """The domain model named in the URL, or 404 if it has no history page."""
    if app_label not in HISTORY_APPS:
        raise Http404
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise Http404 from None
    if not hasattr(model, "history") or model.__name__.startswith("Historical"):
        raise Http404
    return model


def history_url(record: models.Model) -> str:
    return reverse(
        "staff:history",
        kwargs={
            "app_label": record._meta.app_label,
            "model_name": record._meta.model_name,
            "pk": record.pk,
        },
    )


def edit_url(record: models.Model) -> str | None:
    """The staff edit page of a record, if its kind has one."""
    try:
        return reverse(f"staff:{record._meta.model_name}_edit", kwargs={"pk": record.pk})
    except NoReverseMatch:
        return None


# --- readable values ------------------------------------------------------------------------


def _tracked_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields a diff shows, in the model's order: what staff can edit, plus the
    workflow's dates. Version, search keys and timestamps are left out."""
    return [f for f in model._meta.concrete_fields if f.editable and not f.primary_key]


def _m2m_fields(model: type[models.Model]) -> list[models.ManyToManyField]:
    history = model.history.model
    return list(getattr(history, "_history_m2m_fields", []))


class ValueText:
    """Readable text for stored values. Related records are named in one query per related
    model: call `want()` for every value first, then `resolve()`, then `text()`."""

    def __init__(self) -> None:
        self._wanted: dict[type[models.Model], set] = defaultdict(set)
        self._names: dict[type[models.Model], dict] = {}

    def want(self, model_field: models.Field, value) -> None:
        if model_field.many_to_many:
            self._wanted[model_field.related_model].update(value or ())
        elif model_field.is_relation and value is not None:
            self._wanted[model_field.related_model].add(value)

    def resolve(self) -> None:
        for related_model, pks in self._wanted.items():
            if not pks:
                continue
            # Name records as their own __str__ does, without a query per row for the
            # records it names (a detention is "person – incident").
            related = [f.name for f in related_model._meta.concrete_fields if f.many_to_one]
            rows = related_model._base_manager.filter(pk__in=pks).select_related(*related)
            self._names[related_model] = {row.pk: str(row) for row in rows}

    def name(self, related_model: type[models.Model], pk) -> str:
        names = self._names.get(related_model, {})
        if pk in names:
            return names[pk]
        return gettext("deleted %(kind)s #%(pk)s") % {
            "kind": related_model._meta.verbose_name,
            "pk": pk,
        }

    def names(self, model_field: models.Field, pks) -> list[str]:
        return sorted(self.name(model_field.related_model, pk) for pk in pks or ())

    def text(self, model_field: models.Field, value, precision: str | None = None) -> str:
        if hasattr(value, "code"):  # a django-countries Country
            value = value.code
        if value is None or value == "":
            return EMPTY
        if model_field.many_to_many:
            return "; ".join(self.names(model_field, value)) or EMPTY
        if model_field.is_relation:
            return self.name(model_field.related_model, value)
        if model_field.flatchoices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        if isinstance(value, datetime.datetime):
            return formats.date_format(timezone.localtime(value), "j E Y, H:i")
        if isinstance(value, datetime.date):
            if precision:
                return str(PartialDate.of(value, precision))
            return formats.date_format(value, "j E Y")
        return str(value)


def _precision_of(record, model_field: models.Field) -> str | None:
    """The precision stored beside a partial date (`start_date` → `start_date_precision`)."""
    return getattr(record, f"{model_field.attname}_precision", None)


@dataclass
class FieldChange:
    label: str
    old: str
    new: str
    # The model field's name, for undoing this one change (`undo_field_change`).
    field_name: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class HistoryEntry:
    row: models.Model  # the historical record
    type_label: str
    changes: list[FieldChange]
    is_newest: bool


def link_ids(history_model, m2m_fields, history_ids) -> dict[str, dict[int, set]]:
    """For each many-to-many field, the linked ids of each historical row: one query per
    field for the whole page."""
    links: dict[str, dict[int, set]] = {}
    for m2m_field in m2m_fields:
        link_model = getattr(history_model, m2m_field.name).model
        target = get_m2m_reverse_field_name(m2m_field)
        per_row: dict[int, set] = defaultdict(set)
        for history_id, target_id in link_model.objects.filter(
            history_id__in=history_ids
        ).values_list("history_id", f"{target}_id"):
            per_row[history_id].add(target_id)
        links[m2m_field.name] = per_row
    return links


def describe_history(
    model: type[models.Model], rows: list, *, has_older: bool
) -> list[HistoryEntry]:
    """History entries for `rows` (newest first). When `has_older`, the last row is only the
    predecessor the oldest shown entry is compared with, and is not itself shown."""
    fields = _tracked_fields(model)
    by_name = {f.name: f for f in fields}
    order = {f.name: index for index, f in enumerate(fields)}
    m2m_fields = _m2m_fields(model)
    links = link_ids(model.history.model, m2m_fields, [row.history_id for row in rows])
    values = ValueText()
    pairs = []
    shown = rows[:-1] if has_older else rows
    for index, row in enumerate(shown):
        older = rows[index + 1] if index + 1 < len(rows) else None
        if older is None:
            # The first version: every value it was created with.
            names = [f.name for f in fields if getattr(row, f.attname) not in (None, "")]
            plain = [(name, None, getattr(row, by_name[name].attname)) for name in names]
        else:
            delta = row.diff_against(older, included_fields=list(by_name))
            plain = [(change.field, change.old, change.new) for change in delta.changes]
        plain.sort(key=lambda change: order.get(change[0], 0))
        linked = []
        for m2m_field in m2m_fields:
            new_ids = links[m2m_field.name].get(row.history_id, set())
            old_ids = links[m2m_field.name].get(older.history_id, set()) if older else set()
            if new_ids != old_ids:
                linked.append((m2m_field, old_ids, new_ids))
        for name, old, new in plain:
            values.want(by_name[name], old)
            values.want(by_name[name], new)
        for m2m_field, old_ids, new_ids in linked:
            values.want(m2m_field, old_ids | new_ids)
        pairs.append((row, older, plain, linked))
    values.resolve()

    entries = []
    for position, (row, older, plain, linked) in enumerate(pairs):
        changes = []
        for name, old, new in plain:
            model_field = by_name[name]
            changes.append(
                FieldChange(
                    label=capfirst(str(model_field.verbose_name)),
                    old=values.text(model_field, old, older and _precision_of(older, model_field)),
                    new=values.text(model_field, new, _precision_of(row, model_field)),
                    field_name=name,
                )
            )
        for m2m_field, old_ids, new_ids in linked:
            changes.append(
                FieldChange(
                    label=capfirst(str(m2m_field.verbose_name)),
                    old=values.text(m2m_field, old_ids),
                    new=values.text(m2m_field, new_ids),
                    field_name=m2m_field.name,
                    added=values.names(m2m_field, new_ids - old_ids),
                    removed=values.names(m2m_field, old_ids - new_ids),
                )
            )
        entries.append(
            HistoryEntry(
                row=row,
                type_label=str(HISTORY_TYPES.get(row.history_type, row.history_type)),
                changes=changes,
                is_newest=position == 0 and row.history_type != "-",
            )
        )
    return entries


# --- revert ---------------------------------------------------------------------------------


def revert_to_version(*, historical, user, expected_version: int) -> models.Model:
    """Give the record the field values and links it had in `historical`, as a new change.

    Its place in the workflow (publication state, archive) stays as it is now. Raises
    StaleVersionError if the record is no longer at `expected_version`, ValidationError if
    the old values are no longer valid (e.g. another record took its slug meanwhile).
    """
    model = historical.instance_type
    with transaction.atomic():
        current = model._base_manager.select_for_update().get(pk=historical.id)
        if current.version != expected_version:
            raise StaleVersionError(current)
        restored = historical.instance
        restored._state.adding = False
        restored._state.db = current._state.db
        for name in KEPT_ON_REVERT:
            if hasattr(current, name):
                setattr(restored, name, getattr(current, name))
        restored.full_clean()
        m2m_fields = _m2m_fields(model)
        links = link_ids(type(historical), m2m_fields, [historical.history_id])
        restored.skip_history_when_saving = True
        try:
            for m2m_field in m2m_fields:
                ids = links[m2m_field.name].get(historical.history_id, set())
                getattr(restored, m2m_field.name).set(ids)
        finally:
            del restored.skip_history_when_saving
        restored._history_user = user
        restored._change_reason = gettext("Reverted to the version of %(date)s") % {
            "date": formats.date_format(timezone.localtime(historical.history_date), "j E Y H:i")
        }
        save_if_current(restored, expected_version=expected_version)
        security_log.record(
            "record.reverted",
            user=user,
            target=security_log.target(restored),
            to_history_id=historical.history_id,
        )
    return restored


@dataclass
class FieldUndo:
    """What undoing one field of one change would do: the field's value now, the value
    before that change, and whether it changed again since (then the undo also drops
    the later changes of that field)."""

    historical: models.Model
    older: models.Model
    label: str
    now: str
    restored: str
    changed_since: bool
    # Plain fields (a partial date with its precision) or one link field.
    plain: list[models.Field]
    link: models.ManyToManyField | None
    links_after: set | None


def _undone_fields(model: type[models.Model], field_name: str) -> list[models.Field]:
    """The fields one undo restores together: a partial date and its precision are one
    value to a reader, so undoing either restores both."""
    base = field_name.removesuffix("_precision")
    by_name = {f.name: f for f in _tracked_fields(model)}
    return [by_name[name] for name in (base, f"{base}_precision") if name in by_name]


def field_undo(historical, field_name: str) -> FieldUndo:
    """Describe undoing `field_name`'s change in the history entry `historical`. Raises
    Http404 when that entry did not change that field."""
    model = historical.instance_type
    older = (
        model.history.filter(id=historical.id, history_id__lt=historical.history_id)
        .order_by("-history_id")
        .first()
    )
    if older is None or historical.history_type != "~":
        raise Http404
    current = model._base_manager.get(pk=historical.id)
    values = ValueText()
    m2m = {f.name: f for f in _m2m_fields(model)}
    if field_name in m2m:
        link = m2m[field_name]
        ids = link_ids(type(historical), [link], [historical.history_id, older.history_id])
        before = ids[link.name].get(older.history_id, set())
        after = ids[link.name].get(historical.history_id, set())
        if before == after:
            raise Http404
        now = set(getattr(current, link.name).values_list("pk", flat=True))
        # Undo this change only: take back what it added, put back what it removed.
        restored = (now - (after - before)) | (before - after)
        values.want(link, now | restored)
        values.resolve()
        return FieldUndo(
            historical=historical,
            older=older,
            label=capfirst(str(link.verbose_name)),
            now=values.text(link, now),
            restored=values.text(link, restored),
            changed_since=now != after,
            plain=[],
            link=link,
            links_after=restored,
        )
    plain = _undone_fields(model, field_name)
    if not plain or all(getattr(older, f.attname) == getattr(historical, f.attname) for f in plain):
        raise Http404
    main = plain[0]
    values.want(main, getattr(current, main.attname))
    values.want(main, getattr(older, main.attname))
    values.resolve()
    return FieldUndo(
        historical=historical,
        older=older,
        label=capfirst(str(main.verbose_name)),
        now=values.text(main, getattr(current, main.attname), _precision_of(current, main)),
        restored=values.text(main, getattr(older, main.attname), _precision_of(older, main)),
        changed_since=any(
            getattr(current, f.attname) != getattr(historical, f.attname) for f in plain
        ),
        plain=plain,
        link=None,
        links_after=None,
    )


def undo_field_change(*, undo: FieldUndo, user, expected_version: int) -> models.Model:
    """Give one field (or one link field) the value it had before `undo.historical`'s
    change, leaving every other field as it is now; a new change in the history. Raises
    StaleVersionError if the record moved on from `expected_version`, ValidationError if
    the old value is not valid any more."""
    model = undo.historical.instance_type
    with transaction.atomic():
        current = model._base_manager.select_for_update().get(pk=undo.historical.id)
        if current.version != expected_version:
            raise StaleVersionError(current)
        published = getattr(current, "is_published", False)
        missing_before = set(missing_for_publication(current)) if published else set()
        for model_field in undo.plain:
            setattr(current, model_field.attname, getattr(undo.older, model_field.attname))
        current.full_clean()
        if undo.link is not None:
            current.skip_history_when_saving = True
            try:
                getattr(current, undo.link.name).set(undo.links_after)
            finally:
                del current.skip_history_when_saving
        if published and (missing := set(missing_for_publication(current)) - missing_before):
            # A public record stays as complete as publishing asked (its sources above all).
            raise ValidationError(
                gettext("a published record needs %(missing)s")
                % {"missing": ", ".join(sorted(missing))}
            )
        current._history_user = user
        current._change_reason = gettext("Undid the change of %(field)s made on %(date)s") % {
            "field": undo.label,
            "date": formats.date_format(
                timezone.localtime(undo.historical.history_date), "j E Y H:i"
            ),
        }
        save_if_current(current, expected_version=expected_version)
        security_log.record(
            "field.undone",
            user=user,
            target=security_log.target(current),
            history_id=undo.historical.history_id,
            field=[model_field.name for model_field in undo.plain]
            or ([undo.link.name] if undo.link is not None else []),
        )
    return current


# --- views ----------------------------------------------------------------------------------


def _version(request: HttpRequest) -> int | None:
    """The version the form was opened at, or None if it says none a record could have."""
    return parse_integer(request.POST.get("version", ""), minimum=0, maximum=MAX_DATABASE_INTEGER)


@staff_required
def history(request: HttpRequest, app_label: str, model_name: str, pk: int) -> HttpResponse:
    model = history_model_for(app_label, model_name)
    record = model._base_manager.filter(pk=pk).first()
    history_rows = model.history.filter(id=pk).select_related("history_user")
    page_number = page_parameter(request.GET)
    start = (page_number - 1) * ENTRIES_PER_PAGE
    # One row more than the page shows: the version the oldest entry shown is compared with.
    rows = list(
        history_rows.order_by("-history_date", "-history_id")[start : start + ENTRIES_PER_PAGE + 1]
    )
    if record is None and not rows:
        raise Http404
    has_older = len(rows) > ENTRIES_PER_PAGE
    entries = describe_history(model, rows, has_older=has_older)
    if page_number > 1:
        for entry in entries:
            entry.is_newest = False
    context = {
        "record": record,
        "record_label": str(record) if record is not None else str(rows[0].instance),
        "verbose_name": model._meta.verbose_name,
        "app_label": app_label,
        "model_name": model_name,
        "pk": pk,
        "entries": entries,
        "page_number": page_number,
        "has_older": has_older,
        "edit_url": edit_url(record) if record is not None else None,
        "public_url": (
            record.get_absolute_url()
            if record is not None
            and hasattr(record, "get_absolute_url")
            and getattr(record, "archived_at", None) is None
            else None
        ),
        "can_revert": record is not None and request.user.has_perm(REVERT_PERMISSION),
    }
    return render(request, "staff/history.html", context)


@staff_required
@permission_required(REVERT_PERMISSION, raise_exception=True)
@require_POST
def revert(
    request: HttpRequest, app_label: str, model_name: str, pk: int, history_id: int
) -> HttpResponse:
    model = history_model_for(app_label, model_name)
    historical = get_object_or_404(model.history.model, history_id=history_id, id=pk)
    get_object_or_404(model._base_manager, pk=pk)
    expected_version = _version(request)
    if expected_version is None:
        return HttpResponseBadRequest(gettext("The form did not say which version it showed."))
    back = reverse(
        "staff:history", kwargs={"app_label": app_label, "model_name": model_name, "pk": pk}
    )
    try:
        revert_to_version(
            historical=historical, user=request.user, expected_version=expected_version
        )
    except StaleVersionError:
        messages.error(
            request,
            gettext(
                "The record changed while you were reading its history, so nothing was "
                "reverted. Look at the newest change and try again."
            ),
        )
    except ValidationError as error:
        messages.error(
            request,
            gettext("The earlier version is not valid any more, so nothing was reverted: %(e)s")
            % {"e": " ".join(error.messages)},
        )
    else:
        messages.success(
            request,
            gettext("Reverted to the version of %(date)s.")
            % {
                "date": formats.date_format(
                    timezone.localtime(historical.history_date), "j E Y H:i"
                )
            },
        )
    return redirect(back)


@staff_required
@permission_required(REVERT_PERMISSION, raise_exception=True)
def undo_field(
    request: HttpRequest, app_label: str, model_name: str, pk: int, history_id: int, field_name: str
) -> HttpResponse:
    """Undo one field of one change: GET asks for confirmation, POST does it."""
    model = history_model_for(app_label, model_name)
    historical = get_object_or_404(model.history.model, history_id=history_id, id=pk)
    record = get_object_or_404(model._base_manager, pk=pk)
    undo = field_undo(historical, field_name)
    back = reverse(
        "staff:history", kwargs={"app_label": app_label, "model_name": model_name, "pk": pk}
    )
    if request.method == "POST":
        expected_version = _version(request)
        if expected_version is None:
            return HttpResponseBadRequest(gettext("The form did not say which version it showed."))
        try:
            undo_field_change(undo=undo, user=request.user, expected_version=expected_version)
        except StaleVersionError:
            messages.error(
                request,
                gettext(
                    "The record changed while you were deciding, so nothing was undone. "
                    "Look at the newest change and try again."
                ),
            )
        except ValidationError as error:
            messages.error(
                request,
                gettext("The earlier value is not valid any more, so nothing was undone: %(e)s")
                % {"e": " ".join(error.messages)},
            )
        else:
            messages.success(
                request,
                gettext("%(field)s is back to its earlier value.") % {"field": undo.label},
            )
        return redirect(back)
    context = {
        "record": record,
        "undo": undo,
        "verbose_name": model._meta.verbose_name,
        "history_url": back,
    }
    return render(request, "staff/undo_field.html", context)
