"""The edit (and add) page of any record, in both apps, with conflicts shown, not lost.

Every edit page goes through `edit_record()`: the form carries the version it was opened at
and a save from an old version is refused (`StaleVersionError`). The save is then merged
three ways, against the version the user opened (from the history): fields only the
colleague changed keep their values, fields only the user changed take the user's. When no
field was changed by both to different values, the merge is saved at once. Otherwise the
page answers 409, asks only about the fields both changed, and shows the form holding the
merge, carrying the new version, so saving it decides those fields on purpose.
"""

from __future__ import annotations

import copy
import datetime
import json
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext

from cabar_tracker.history import StaleVersionError
from cabar_tracker.publishing import PublicationState, PublishableModel
from cabar_tracker.staff.forms import VersionedModelForm
from cabar_tracker.staff.history_views import ValueText, edit_url, history_url, link_ids
from cabar_tracker.staff.proposals import proposals_for
from incidents import revisions
from incidents.models import RevisionAction
from incidents.workflow import missing_for_publication

# --- edit pages, with conflicts -------------------------------------------------------------


@dataclass
class ConflictRow:
    field_name: str
    label: str
    theirs: str
    yours: str
    they_changed: bool
    you_changed: bool
    # The stored value as the form field takes it, for the "use theirs" button.
    theirs_for_form: str
    # The stored value as form data (a list of strings), for the three-way merge.
    theirs_as_data: list[str]

    @property
    def asks(self) -> bool:
        """Both changed this field, to different values: only the user can decide."""
        return self.they_changed and self.you_changed

    @property
    def keeps_theirs(self) -> bool:
        return self.they_changed and not self.you_changed


def _as_data(value) -> list[str]:
    """A stored value as the form's fields read it from a POST (see `_for_form`)."""
    if isinstance(value, set):
        return [str(pk) for pk in sorted(value)]
    if hasattr(value, "code"):  # a django-countries Country
        return [value.code or ""]
    if isinstance(value, datetime.date):
        return [value.isoformat()]
    if isinstance(value, bool):
        return ["on"] if value else []
    if value is None:
        return [""]
    return [str(value)]


def merged(data, rows: list[ConflictRow]):
    """The user's form data with each field only the colleague changed set to their value:
    saving it keeps their change and the user's together."""
    data = data.copy()
    for row in rows:
        if row.keeps_theirs:
            if row.theirs_as_data:
                data.setlist(row.field_name, row.theirs_as_data)
            else:
                data.pop(row.field_name, None)  # an unticked box is absent from a POST
    return data


def _merged_message(rows: list[ConflictRow]) -> str:
    kept = ", ".join(row.label for row in rows if row.keeps_theirs)
    return gettext(
        "Someone else saved a change while you were editing; your change was saved beside "
        "theirs, and their values of the fields only they changed were kept: %(fields)s."
    ) % {"fields": kept}


def _for_form(value) -> str:
    """A stored value as JSON the page's script can put into the form field."""
    if isinstance(value, set):
        value = sorted(str(pk) for pk in value)
    elif hasattr(value, "code"):  # a django-countries Country
        value = value.code
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    elif value is None:
        value = ""
    elif not isinstance(value, bool):
        value = str(value)
    return json.dumps(value)


def _form_values(form: VersionedModelForm, record: models.Model) -> dict[str, object]:
    """The values of the form's fields on `record` (ids for relations, id sets for links)."""
    values = {}
    for name in form.fields:
        try:
            model_field = record._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if model_field.many_to_many:
            values[name] = set(getattr(record, name).values_list("pk", flat=True))
        else:
            values[name] = getattr(record, model_field.attname)
    return values


def _opened_values(form: VersionedModelForm, current: models.Model) -> dict[str, object] | None:
    """The values of the form's fields in the version the user opened, from the history."""
    # Links change without a new version, so several history rows may share one: take the
    # first, so a link change made at that version still counts as theirs (when in doubt,
    # show the conflict rather than save over it).
    opened = current.history.filter(version=form.opened_version).order_by("history_id").first()
    if opened is None:
        return None
    m2m = [f for f in current._meta.many_to_many if f.name in form.fields]
    links = link_ids(type(opened), m2m, [opened.history_id])
    values = {name: ids.get(opened.history_id, set()) for name, ids in links.items()}
    for name in form.fields:
        if name in values:
            continue
        try:
            values[name] = getattr(opened, current._meta.get_field(name).attname)
        except (FieldDoesNotExist, AttributeError):
            continue
    return values


def _yours(form: VersionedModelForm) -> dict[str, object]:
    """What the user sent, as stored values: the form's instance after validation holds
    them (dates normalized as they would be saved); links come from the cleaned data."""
    values = {}
    for name in form.fields:
        try:
            model_field = form.instance._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if model_field.many_to_many:
            values[name] = {obj.pk for obj in form.cleaned_data.get(name) or ()}
        else:
            values[name] = getattr(form.instance, model_field.attname)
    return values


def _same(a, b) -> bool:
    return (a.code if hasattr(a, "code") else a) == (b.code if hasattr(b, "code") else b)


def conflict_rows(
    form: VersionedModelForm, current: models.Model, opened: dict | None
) -> list[ConflictRow]:
    """One row per field whose stored value differs from the user's."""
    theirs = _form_values(form, current)
    yours = _yours(form)
    text = ValueText()
    differing = [name for name in theirs if name in yours and not _same(theirs[name], yours[name])]
    for name in differing:
        model_field = current._meta.get_field(name)
        text.want(model_field, theirs[name])
        text.want(model_field, yours[name])
    text.resolve()
    rows = []
    for name in differing:
        model_field = current._meta.get_field(name)
        precision = f"{model_field.attname}_precision"
        rows.append(
            ConflictRow(
                field_name=name,
                label=capfirst(str(form.fields[name].label or model_field.verbose_name)),
                theirs=text.text(model_field, theirs[name], getattr(current, precision, None)),
                yours=text.text(model_field, yours[name], getattr(form.instance, precision, None)),
                they_changed=opened is None or not _same(opened.get(name), theirs[name]),
                you_changed=opened is None or not _same(opened.get(name), yours[name]),
                theirs_for_form=_for_form(theirs[name]),
                theirs_as_data=_as_data(theirs[name]),
            )
        )
    return rows


def _rebound(form_class, data, version: int, instance, prefix_field: str = "version"):
    data = data.copy()
    data[prefix_field] = str(version)
    return form_class(data, instance=instance)


def edit_record(
    request: HttpRequest,
    *,
    form_class: type[VersionedModelForm],
    instance: models.Model | None = None,
    heading: str,
    formset_class: type[forms.BaseInlineFormSet] | None = None,
    initial: dict | None = None,
    done_url: str | None = None,
    extra_context: dict | None = None,
) -> HttpResponse:
    """The edit (or add) page of one record: GET shows the form, POST saves it or shows the
    errors (400) or the conflict (409).

    `done_url` is where a save leads (a row's parent record, whose page lists it; a proposed
    addition has no page of its own yet); by default the record's own edit page.
    `extra_context` is shown around the form (the rows of the record, say)."""
    formset = None
    if request.method == "POST":
        form = form_class(request.POST, instance=instance)
        if formset_class is not None:
            formset = formset_class(request.POST, instance=form.instance)
        if form.is_valid() and (formset is None or formset.is_valid()):
            try:
                saved = form.save_checked(formsets=[formset] if formset is not None else [])
            except StaleVersionError as stale:
                current = stale.current
                opened = _opened_values(form, current)
                rows = conflict_rows(form, current, opened)
                if opened is not None and not any(row.asks for row in rows):
                    # Three ways: the fields only they changed keep their values, yours
                    # keep yours, and nobody changed the same field differently.
                    merged_data = merged(request.POST, rows)
                    retry = _rebound(form_class, merged_data, current.version, current)
                    retry_formset = (
                        formset_class(merged_data, instance=current) if formset_class else None
                    )
                    if retry.is_valid() and (retry_formset is None or retry_formset.is_valid()):
                        try:
                            saved = retry.save_checked(
                                formsets=[retry_formset] if retry_formset is not None else []
                            )
                        except StaleVersionError as again:
                            current = again.current
                            opened = _opened_values(form, current)
                            rows = conflict_rows(form, current, opened)
                        else:
                            if any(row.they_changed for row in rows):
                                messages.info(request, _merged_message(rows))
                            return _saved(request, saved, retry, done_url)
                return _conflict(
                    request,
                    form_class=form_class,
                    formset_class=formset_class,
                    current=current,
                    rows=rows,
                    heading=heading,
                )
            return _saved(request, saved, form, done_url)
    record = instance if instance is not None and instance.pk else None
    record_context = _record_context(record, check=request.method != "POST")
    if request.method != "POST":
        form = _opened_form(form_class, instance, initial, record_context.get("pending"))
        if formset_class is not None:
            formset = formset_class(instance=instance)
    context = {
        **(extra_context or {}),
        **record_context,
        "form": form,
        "formset": formset,
        "heading": heading,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/edit.html", context, status=status)


def _opened_form(form_class, instance, initial: dict | None, pending):
    """The form as the page opens: with the change waiting for review (`pending`), if there
    is one, so the editor goes on from their proposal rather than from the public version."""
    if pending is None or pending.action != RevisionAction.CHANGE:
        return form_class(instance=instance, initial=initial)
    proposed = revisions.proposed_record(pending, copy.copy(instance))
    links = {
        name: ids
        for name, ids in pending.proposed.get("links", {}).items()
        if name in pending.changed_fields()
    }
    return form_class(instance=proposed, initial={**(initial or {}), **links})


def _saved(
    request: HttpRequest, saved: models.Model | None, form, done_url: str | None = None
) -> HttpResponse:
    if getattr(form, "proposals", None):
        messages.success(
            request,
            gettext(
                "Your change waits for a reviewer; until it is published, the public sees "
                "the record as it was."
            ),
        )
    elif form.proposes:
        messages.info(request, gettext("Nothing changed: no change waits for review."))
    else:
        messages.success(request, gettext("Saved: %(record)s.") % {"record": saved})
    if done_url:
        return redirect(done_url)
    if saved is None:
        return redirect("staff:dashboard")
    return redirect(edit_url(saved) or history_url(saved))


def _conflict(
    request: HttpRequest,
    *,
    form_class,
    formset_class,
    current: models.Model,
    rows: list[ConflictRow],
    heading: str,
) -> HttpResponse:
    latest = current.history.select_related("history_user").order_by("-history_id").first()
    # The form holds the merge: the user's values, and theirs where only they changed.
    data = merged(request.POST, rows)
    form = _rebound(form_class, data, current.version, current)
    formset = formset_class(data, instance=current) if formset_class else None
    context = {
        **_record_context(current, check=False),
        "form": form,
        "formset": formset,
        "heading": heading,
        "rows": rows,
        "asked": [row for row in rows if row.asks],
        "kept_theirs": [row for row in rows if row.keeps_theirs],
        "latest": latest,
    }
    return render(request, "staff/conflict.html", context, status=409)


def _record_context(record: models.Model | None, *, check: bool) -> dict:
    """What the edit and conflict pages show around the form: links, state, and what the
    record lacks before it can be published."""
    if record is None:
        return {"record": None}
    publishable = isinstance(record, PublishableModel)
    public_url = None
    if hasattr(record, "get_absolute_url") and getattr(record, "archived_at", None) is None:
        public_url = record.get_absolute_url()
    missing = None
    if check and publishable and record.publication_state != PublicationState.PUBLISHED:
        missing = missing_for_publication(record, validate=False)
    return {
        **proposals_for(record),
        "record": record,
        "app_label": record._meta.app_label,
        "model_name": record._meta.model_name,
        "history_url": history_url(record),
        "public_url": public_url,
        "publishable": publishable,
        "missing": missing,
    }
