"""Staff edit forms for persons and their name variants.

The person form carries the version it was opened at, like every staff edit form
(`incidents.staff.forms.VersionedModelForm`); the name variants are an inline formset saved
in the same transaction, after the person, so a refused save saves no variant either.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cabar_tracker.staff.forms import (
    STAFF_ONLY,
    PersonChoiceField,
    SourceMultipleChoiceField,
    VersionedModelForm,
    initial_ids,
    with_current,
)
from incidents.models import Source
from people.models import Person, PersonName


class PersonForm(VersionedModelForm):
    sources = SourceMultipleChoiceField(
        label=_("Sources"), queryset=Source.objects.none(), required=False
    )

    fieldsets = (
        (_("Name"), [("name", "name_native"), "slug"]),
        (
            _("About the person"),
            [("sex", "birth_year"), ("citizenship", "occupation"), "public_notes"],
        ),
        (_("Privacy"), ["identity_withheld"]),
        (_("Sources"), ["sources"]),
        (STAFF_ONLY, ["staff_notes"]),
    )

    class Meta:
        model = Person
        fields = [
            "name",
            "name_native",
            "slug",
            "sex",
            "birth_year",
            "citizenship",
            "occupation",
            "public_notes",
            "identity_withheld",
            "sources",
            "staff_notes",
        ]
        widgets = {"public_notes": forms.Textarea(attrs={"rows": 3})}
        # The "Staff only" box says it already.
        help_texts = {"staff_notes": ""}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = with_current(
            Source.objects.not_archived(), *initial_ids(self, "sources")
        )


class PersonNameForm(forms.ModelForm):
    other_person = PersonChoiceField(
        label=_("Real bearer of the name"),
        queryset=Person.objects.none(),
        required=False,
        help_text=_("For 'misidentified as': the person the name actually belongs to."),
    )

    class Meta:
        model = PersonName
        fields = ["name", "kind", "other_person", "note"]
        widgets = {"note": forms.TextInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other_person"].queryset = with_current(
            Person.objects.not_archived(), self.instance.other_person_id
        )


class BasePersonNameFormSet(forms.BaseInlineFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every row offers the same persons: list them once, not once per row. (A
        # comprehension, because list() would first ask the choices for their length: a
        # COUNT query.)
        if self.forms:
            field = self.forms[0].fields["other_person"]
            choices = [choice for choice in field.choices]  # noqa: C416
            for form in self.forms:
                form.fields["other_person"].choices = choices


PersonNameFormSet = forms.inlineformset_factory(
    Person,
    PersonName,
    form=PersonNameForm,
    formset=BasePersonNameFormSet,
    fk_name="person",
    extra=1,
    can_delete=True,
)
