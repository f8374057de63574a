"""The lists of linked records on staff edit forms (sources, people, incidents) render as
pickers (cabar_tracker/staff/forms.py, PickerSelectMultiple; static/js/staff_picker.js): a
<select multiple> marked for the script, its linked records `selected`, so the script shows
them as chips and a browser without it still sends them back."""

import re

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from cabar_tracker.staff.forms import (
    MULTIPLE_HELP,
    PICKER_HELP,
    PickerSelectMultiple,
    VersionedModelForm,
)
from incidents.models import Incident, Statement
from incidents.staff.forms import DetentionForm, IncidentForm, StatementForm
from people.staff.forms import PersonForm
from tests.factories import (
    IncidentFactory,
    PersonFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


def select_tag(page: str, field_id: str) -> str:
    return re.search(rf'<select[^>]*id="{field_id}".*?</select>', page, re.DOTALL).group(0)


def selected_values(select: str) -> set[str]:
    return set(re.findall(r'<option value="(\d+)" selected>', select))


@pytest.mark.parametrize(
    ("form_class", "names"),
    [
        (IncidentForm, ["sources"]),
        (DetentionForm, ["sources"]),
        (StatementForm, ["incidents", "people", "sources"]),
        (PersonForm, ["sources"]),
    ],
)
def test_every_list_of_linked_records_is_a_picker(form_class, names):
    form = form_class()
    pickers = [
        name
        for name, field in form.fields.items()
        if isinstance(field.widget, forms.SelectMultiple)
    ]
    assert sorted(pickers) == names
    for name in names:
        assert isinstance(form.fields[name].widget, PickerSelectMultiple), name


def test_it_renders_the_linked_sources_selected_for_the_chips(editor_client):
    linked = SourceFactory.create_batch(2)
    other = SourceFactory()
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)
    incident.sources.add(*linked)

    page = editor_client.get(reverse("staff:incident_edit", kwargs={"pk": incident.pk}))

    select = select_tag(page.content.decode(), "id_sources")
    assert "multiple" in select and "data-picker" in select
    assert selected_values(select) == {str(source.pk) for source in linked}
    assert f'<option value="{other.pk}">' in select
    assert 'src="/static/js/staff_picker.js"' in page.content.decode()


def test_it_says_how_to_use_the_list_with_and_without_the_script(editor_client):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)

    page = editor_client.get(reverse("staff:incident_edit", kwargs={"pk": incident.pk}))

    body = page.content.decode()
    # The page as sent is the plain list: hold Ctrl. The script puts its own words in.
    assert f'id="id_sources_helptext">{MULTIPLE_HELP}</small>' in body.replace("&#x27;", "'")
    select = select_tag(body, "id_sources")
    assert f'data-picker-help="{PICKER_HELP}"' in select
    assert 'data-picker-remove="Remove {label}"' in select


def test_it_keeps_the_field_s_own_help_in_both():
    class HelpedForm(VersionedModelForm):
        class Meta:
            model = Statement
            fields = ["incidents"]
            help_texts = {"incidents": "The cases it is about."}

    form = HelpedForm()

    field = form.fields["incidents"]
    assert str(field.help_text) == f"The cases it is about. {MULTIPLE_HELP}"
    assert field.widget.attrs["data-picker-help"] == f"The cases it is about. {PICKER_HELP}"


def test_the_statement_s_incidents_picker_offers_no_archived_case_except_a_linked_one():
    archived = IncidentFactory(title="Archived case", archived_at=timezone.now())
    archived_linked = IncidentFactory(title="Archived but linked", archived_at=timezone.now())
    current = IncidentFactory(title="Current case")
    statement = StatementFactory()
    Statement.objects.get(pk=statement.pk).incidents.add(archived_linked)

    form = StatementForm(instance=Statement.objects.get(pk=statement.pk))

    select = str(form["incidents"])
    assert "data-picker" in select
    assert selected_values(select) == {str(archived_linked.pk)}
    assert "Current case" in select and f'value="{current.pk}"' in select
    assert "Archived case" not in select
    assert Incident._base_manager.filter(pk=archived.pk).exists()


def test_a_person_is_listed_with_the_name_in_its_own_script_for_the_search():
    PersonFactory(name="Vikram Ruzakhunov", name_native="Викрам Рузахунов")

    select = str(StatementForm()["people"])

    assert "Vikram Ruzakhunov (Викрам Рузахунов, KG)" in select


def test_it_gives_the_script_its_words_in_the_page_s_language(editor_client):
    incident = IncidentFactory(publication_state=PublicationState.DRAFT)

    page = editor_client.get(
        reverse("staff:incident_edit", kwargs={"pk": incident.pk}), HTTP_ACCEPT_LANGUAGE="ru"
    )

    select = select_tag(page.content.decode(), "id_sources")
    assert 'data-picker-remove="Убрать {label}"' in select
    assert 'data-picker-help="Начните вводить' in select
