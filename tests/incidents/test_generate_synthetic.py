"""generate_synthetic: realistic shapes, deterministic, kept apart from real cases."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from incidents.models import Detention, Incident, Location, Situation, Statement
from people.models import Person
from people.names import name_key

pytestmark = pytest.mark.django_db


def generate(**options):
    call_command("generate_synthetic", incidents=300, people=120, seed=7, batch_size=100, **options)


def test_it_generates_the_requested_rows_in_one_synthetic_situation():
    call_command("load_demo")
    demo_incidents = set(Incident.objects.values_list("pk", flat=True))
    generate()
    synthetic = Situation.objects.get(slug="synthetic")
    assert Incident.objects.filter(situation=synthetic).count() == 300
    assert Incident.objects.exclude(situation=synthetic).count() == len(demo_incidents)
    assert Person.objects.filter(slug__startswith="synthetic-").count() == 120
    assert Detention.objects.filter(incident__situation=synthetic).exists()
    assert Statement.objects.filter(situation=synthetic).count() == 30
    countries = Location.objects.filter(slug__startswith="synthetic-", kind="country")
    assert countries.count() == 5
    assert Location.objects.filter(slug__startswith="synthetic-", kind="city").count() == 50


def test_its_rows_are_consistent():
    generate()
    person = Person.objects.filter(slug__startswith="synthetic-").first()
    assert person.name_key == name_key(f"{person.name} {person.name_native}")
    assert not Detention.objects.filter(released_on__lt=F("detained_on")).exists()
    per_incident = [
        i.detentions.count() for i in Incident.objects.filter(slug__startswith="synthetic-")
    ]
    assert max(per_incident) <= 40
    assert sum(per_incident) > 300  # most incidents name one or more people


def test_it_is_deterministic_for_a_seed():
    generate()
    first = list(
        Incident.objects.filter(slug__startswith="synthetic-").values_list("title", "kind")
    )
    call_command("generate_synthetic", remove=True)
    assert not Situation.objects.filter(slug="synthetic").exists()
    assert not Person.objects.filter(slug__startswith="synthetic-").exists()
    generate()
    again = list(
        Incident.objects.filter(slug__startswith="synthetic-").values_list("title", "kind")
    )
    assert first == again


def test_it_refuses_to_mix_two_generations():
    generate()
    with pytest.raises(CommandError, match="already exists"):
        generate()
