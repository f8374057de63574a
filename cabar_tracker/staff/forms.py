"""What every staff edit form is built from, in both apps.

`VersionedModelForm` carries the version of the record it was opened at (a hidden field) and
saves through `save_checked()`, which refuses to write over a change made since
(`cabar_tracker.history.StaleVersionError`); the edit page then shows the conflict
(`cabar_tracker.staff.editing`). The choice fields pick records of either app (a place, a
person, a post, sources) with labels staff can tell apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django import forms
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from cabar_tracker.history import StaleVersionError, save_if_current
from cabar_tracker.publishing import PublishableModel, ReviewerOnlyChange, acting_user
from incidents import revisions
from incidents.models import Location, Revision, Source
from people.models import Person, Position

DATE_HELP = _(
    "For a month or a year, any day inside it will do: only the month or the year is kept "
    "and shown."
)
PRECISION_HELP = _(
    "Month: the day is ignored (shown as “January 2022”). Around this day: shown as "
    "“around 7 January 2022”."
)

MULTIPLE_HELP = _("Hold Ctrl (⌘ on a Mac) to choose more than one.")
# What the same list says once static/js/staff_picker.js has made it a picker.
PICKER_HELP = _("Type to find one and click it to add it; remove one with its × button.")

# The legend of the fieldset holding staff-only fields, which the page marks as restricted.
STAFF_ONLY = _("Staff only")


@dataclass
class Fieldset:
    legend: str
    rows: list[list[forms.BoundField]]
    restricted: bool = False


# A row of the form's layout: one field, or several shown side by side (a date and its
# precision).
Row = str | tuple[str, ...]


class DateInput(forms.DateInput):
    """The browser's date picker; ISO dates so it can show the stored value."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


EM_SPACE = "\u2003"


def tree_label(location: Location) -> str:
    """A place indented by its depth in the tree, so a select reads as the tree."""
    return EM_SPACE * location.depth + location.name


class LocationChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Location.objects.order_by("path"))
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Location) -> str:
        return tree_label(obj)


class PickerSelectMultiple(forms.SelectMultiple):
    """A list of records to link (sources, people, incidents) that static/js/staff_picker.js
    turns into a picker: the chosen records as chips, each removed only by its own button,
    and a search box whose results are added by a click. A plain click on a plain
    <select multiple> deselects every other option, so saving silently dropped the links.

    The select stays the form's input (the script hides it and keeps its options' `selected`
    in step), so the server reads the same values and, without the script, it is the plain
    list. The script's words come from here, translated, as data attributes.
    """

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(
            {
                "data-picker": "",
                "data-picker-placeholder": _("Type to find…"),
                "data-picker-chosen": _("Chosen: {field}"),
                "data-picker-none": _("None chosen."),
                "data-picker-remove": _("Remove {label}"),
                "data-picker-no-match": _("Nothing found."),
                "data-picker-more": _("{count} more: type more to narrow the list."),
                "data-picker-added": _("Added: {label}"),
                "data-picker-removed": _("Removed: {label}"),
            }
        )
        return context


def person_label(person: Person) -> str:
    """A person as staff pick them from a list: with what tells namesakes apart."""
    details = [person.name_native, person.citizenship.code if person.citizenship else ""]
    details = ", ".join(detail for detail in details if detail)
    label = f"{person.name} ({details})" if details else person.name
    if person.identity_withheld:
        label = f"{label} – {_('identity withheld')}"
    return label


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        return person_label(obj)


# The largest key a record can have (a 64-bit integer column).
MAX_PK = 2**63 - 1


class KeysInRangeMixin:
    """Refuse a chosen key too large for the database as an invalid choice. Django looks the
    chosen keys up with `pk__in`, which it does not range-check: SQLite's driver raises
    OverflowError and PostgreSQL an error for a number of 20 digits, a 500 either way."""

    def _check_values(self, value):
        for key in value if isinstance(value, list | tuple) else ():
            try:
                in_range = abs(int(key)) <= MAX_PK
            except (TypeError, ValueError):
                in_range = True  # Django names it an invalid value itself
            if not in_range:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": key},
                )
        return super()._check_values(value)


class PersonMultipleChoiceField(KeysInRangeMixin, forms.ModelMultipleChoiceField):
    widget = PickerSelectMultiple

    def label_from_instance(self, obj: Person) -> str:
        return person_label(obj)


class SourceMultipleChoiceField(KeysInRangeMixin, forms.ModelMultipleChoiceField):
    widget = PickerSelectMultiple

    def label_from_instance(self, obj: Source) -> str:
        date = f", {obj.publication_date}" if obj.publication_date else ""
        return f"{obj}{date}"


class PositionSelect(forms.Select):
    """Each post carries its holder (`data-person`), so static/js/staff_forms.js can offer
    only the speaker's posts."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-person"] = instance.person_id
        return option


class PositionChoiceField(forms.ModelChoiceField):
    widget = PositionSelect

    def label_from_instance(self, obj: Position) -> str:
        return f"{obj.person.name}: {obj.title}, {obj.organization}"


def with_current(queryset: models.QuerySet, *current_ids: int | None) -> models.QuerySet:
    """The queryset plus the rows already chosen, which may since have been archived."""
    ids = [pk for pk in current_ids if pk]
    if not ids:
        return queryset
    return queryset | queryset.model._base_manager.filter(pk__in=ids)


def initial_ids(form: forms.ModelForm, name: str) -> list[int]:
    """The ids linked through a many-to-many field when the form was opened (ModelForm has
    already read them into `initial`; reading them again would cost a query)."""
    return [getattr(value, "pk", value) for value in form.initial.get(name) or ()]


@functools.cache
def _keys_in_range(field_class: type) -> type:
    """`field_class` with `KeysInRangeMixin`: one class per field class, made once."""
    return type(f"KeysInRange{field_class.__name__}", (KeysInRangeMixin, field_class), {})


def picker_for(field: forms.Field) -> PickerSelectMultiple:
    """The picker in place of a field's plain <select multiple>, with the same choices."""
    widget = PickerSelectMultiple(attrs=field.widget.attrs, choices=field.widget.choices)
    widget.is_required = field.widget.is_required
    widget.is_localized = field.widget.is_localized
    return widget


class VersionedModelForm(forms.ModelForm):
    """A ModelForm that remembers which version of the record it was opened at."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    # The layout: [(legend, [row, …]), …]; fields not named are listed at the end.
    fieldsets: Sequence[tuple[str, Sequence[Row]]] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["version"].required = True
        for field in self.fields.values():
            if isinstance(field, forms.ModelMultipleChoiceField) and not isinstance(
                field, KeysInRangeMixin
            ):
                # Every list of linked records refuses a key too large for the database as
                # an invalid choice (the generated ones too: a statement's cases).
                field.__class__ = _keys_in_range(type(field))
            if isinstance(field.widget, forms.Textarea) and field.widget.attrs.get("rows") == "10":
                # Django's default of ten rows makes a long page longer.
                field.widget.attrs["rows"] = "5"
            if type(field.widget) is forms.SelectMultiple:
                field.widget = picker_for(field)
            if isinstance(field.widget, forms.SelectMultiple):
                field.widget.attrs.setdefault("size", 8)
                own_help = field.help_text
                # Without the script the list is a plain <select multiple>: say how it works.
                field.help_text = " ".join(str(text) for text in (own_help, MULTIPLE_HELP) if text)
                if isinstance(field.widget, PickerSelectMultiple):
                    field.widget.attrs["data-picker-help"] = " ".join(
                        str(text) for text in (own_help, PICKER_HELP) if text
                    )

    def clean(self):
        cleaned = super().clean()
        # Browsers send a text area's line breaks as CRLF; stored text has LF. Without this,
        # a form sent back unchanged differs from what is stored in every text with a line
        # break: a proposal or a history entry that changes nothing.
        for name, value in cleaned.items():
            if isinstance(value, str) and "\r" in value:
                cleaned[name] = value.replace("\r\n", "\n").replace("\r", "\n")
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the form's values
        # The rule that saving enforces anyway (PublishableModel.save), asked first so the
        # refusal stands on the page as an error rather than a 403.
        # A change that will be proposed for review is the reviewer's to decide.
        if isinstance(self.instance, PublishableModel) and not self.errors and not self.proposes:
            try:
                self.instance.check_reviewer_only_changes(acting_user(self.instance))
            except ReviewerOnlyChange as refusal:
                self.add_error(None, str(refusal))

    # The proposals a save stored instead of changing public records (save_checked): the
    # record's own and its inline rows'.
    proposals: list[Revision] = []

    @property
    def proposes(self) -> bool:
        """Whether saving proposes a change for review rather than writing the record."""
        if not hasattr(self, "_proposes"):
            self._proposes = revisions.needs_review(self.instance, acting_user(self.instance))
        return self._proposes

    @property
    def opened_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def layout(self) -> list[Fieldset]:
        """The fieldsets as bound fields, for templates/staff/_edit_form.html."""
        named: set[str] = set()
        result = []
        for legend, rows in self.fieldsets:
            bound_rows = []
            for row in rows:
                names = (row,) if isinstance(row, str) else row
                names = [name for name in names if name in self.fields]
                named.update(names)
                if names:
                    bound_rows.append([self[name] for name in names])
            result.append(Fieldset(legend, bound_rows, restricted=legend is STAFF_ONLY))
        rest = [[self[name]] for name in self.fields if name not in named and name != "version"]
        if rest:
            result.append(Fieldset(_("More"), rest))
        return result

    def save_checked(self, *, formsets: Iterable[forms.BaseFormSet] = ()) -> models.Model:
        """Save the record, its many-to-many links and `formsets` in one transaction, unless
        the record changed since the form was opened (raises StaleVersionError, saves
        nothing).

        The links are saved before the record, with history off for them, so the one
        history entry the save records holds the new fields and the new links together.
        """
        with transaction.atomic():
            instance = self.save(commit=False)
            if instance._state.adding and self.proposes:
                return self._propose(instance, formsets)
            if instance._state.adding:
                instance.save()
                self.save_m2m()
            else:
                model = type(instance)
                # Lock first, so nothing of this save is written when it is refused.
                current = model._base_manager.select_for_update().get(pk=instance.pk)
                if current.version != self.opened_version:
                    raise StaleVersionError(current)
                if self.proposes:
                    return self._propose(instance, formsets)
                instance.skip_history_when_saving = True
                try:
                    self.save_m2m()
                finally:
                    del instance.skip_history_when_saving
                save_if_current(instance, expected_version=self.opened_version)
            for formset in formsets:
                formset.instance = instance
                formset.save()
        return instance

    def _propose(self, instance: models.Model, formsets: Iterable[forms.BaseFormSet]):
        """Store the form's values (and the inline rows' changes) as proposals for review;
        the public record stays as it is. Returns the record as stored."""
        user = acting_user(instance)
        links = {
            field.name: [obj.pk for obj in self.cleaned_data.get(field.name) or ()]
            for field in instance._meta.many_to_many
            if field.name in self.cleaned_data
        }
        proposals = [revisions.propose(instance, user=user, links=links)]
        for formset in formsets:
            for form in formset.forms:
                row = form.instance
                if formset.can_delete and formset._should_delete_form(form):
                    if row.pk is not None:
                        proposals.append(revisions.propose(row, user=user, delete=True))
                elif form.has_changed():
                    row = form.save(commit=False)
                    setattr(row, formset.fk.name, instance)
                    row_links = {
                        field.name: [obj.pk for obj in form.cleaned_data.get(field.name) or ()]
                        for field in row._meta.many_to_many
                        if field.name in form.cleaned_data
                    }
                    proposals.append(revisions.propose(row, user=user, links=row_links))
        self.proposals = [proposal for proposal in proposals if proposal is not None]
        if instance.pk is None:
            return None
        return type(instance)._base_manager.get(pk=instance.pk)


def date_widgets(*names: str) -> dict[str, forms.Widget]:
    return {name: DateInput() for name in names}
