"""A mirror that loses nothing (issue 13, item 5).

A copy of every public list, kept only by what a script can ask: each list's
`?updated_since=` and the removals feed, from the time of its previous visit. A scripted
sequence of what staff do (edits directly and through proposals, publish, unpublish,
publish again, archive, restore, withhold an identity, merge two persons, through the
services, the API and plain saves) is replayed, and after every step the copy must equal
what the public API answers now, item for item, in every list.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents import revisions, workflow
from incidents.models import Detention, Location, PublicUse
from people.models import Person, Position
from people.staff.merge import merge_persons
from tests.api_personas import API
from tests.factories import (
    AllegationFactory,
    CountryFactory,
    DetentionFactory,
    IncidentEventFactory,
    IncidentFactory,
    LocationFactory,
    OrganizationFactory,
    PersonFactory,
    PositionFactory,
    SituationFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

RESOURCES = (
    "incidents",
    "detentions",
    "people",
    "organizations",
    "positions",
    "locations",
    "situations",
    "statements",
    "sources",
)
# The removals feed names a record by its type; the list it is in.
LIST_OF_TYPE = {resource[:-1]: resource for resource in RESOURCES}
LIST_OF_TYPE["person"] = "people"


def every_item(client, resource: str, **params) -> dict[int, dict]:
    """Every item of a public list, following its `next` links."""
    items: dict[int, dict] = {}
    response = client.get(f"{API}/{resource}/", {"page_size": 200, **params})
    while True:
        assert response.status_code == 200, (resource, response.content)
        body = response.json()
        for item in body["results"]:
            assert item["id"] not in items, f"{resource} {item['id']} listed twice"
            items[item["id"]] = item
        if not body["next"]:
            return items
        response = client.get(body["next"])


class Mirror:
    """The script's copy: every list, by id, updated from `updated_since` and `removals`
    alone (removals first, then each list's changes since the previous visit)."""

    def __init__(self, client):
        self.client = client
        self.lists: dict[str, dict[int, dict]] = {resource: {} for resource in RESOURCES}
        self.since = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)  # the first visit

    def sync(self) -> None:
        visit = timezone.now()
        since = self.since.isoformat()
        response = self.client.get(f"{API}/removals/", {"since": since})
        assert response.status_code == 200, response.content
        for row in response.json()["results"]:
            self.lists[LIST_OF_TYPE[row["type"]]].pop(row["id"], None)
        for resource in RESOURCES:
            self.lists[resource].update(every_item(self.client, resource, updated_since=since))
        self.since = visit


def assert_mirror_is_public(mirror: Mirror, step: str) -> None:
    for resource in RESOURCES:
        public = every_item(mirror.client, resource)
        copy = mirror.lists[resource]
        missing = sorted(set(public) - set(copy))
        extra = sorted(set(copy) - set(public))
        stale = sorted(pk for pk in set(public) & set(copy) if public[pk] != copy[pk])
        assert not (missing or extra or stale), (
            f"after {step}: {resource} missing {missing}, kept after removal {extra}, "
            f"stale {stale}: " + "; ".join(f"{copy[pk]} != {public[pk]}" for pk in stale[:1])
        )


@pytest.fixture
def world(db):
    """Two published cases, three persons (two of them the same man), posts, statements,
    and places and organizations public only through one record each."""
    source = SourceFactory(title="CABAR.asia")
    kazakhstan = CountryFactory()
    almaty = LocationFactory(name="Almaty", slug="almaty", parent=kazakhstan)
    shymkent = LocationFactory(name="Shymkent", slug="shymkent", parent=kazakhstan)
    station = LocationFactory(name="Police station", slug="station", parent=almaty)
    checkpoint = LocationFactory(name="Ak Zhol", slug="ak-zhol", parent=kazakhstan)
    unrest = SituationFactory(title="January unrest", slug="unrest")

    almaty_case = IncidentFactory(location=almaty, situation=unrest, title="Almaty case")
    shymkent_case = IncidentFactory(location=shymkent, situation=unrest, title="Shymkent case")
    vikram = PersonFactory(name="Vikram Ruzakhunov", slug="vikram")
    duplicate = PersonFactory(name="Vikram Ruzahunov", slug="vikram-2")
    baialy = PersonFactory(name="Baialy Torogeldiev", slug="baialy")
    in_almaty = DetentionFactory(incident=almaty_case, person=vikram, custody_location=station)
    in_shymkent = DetentionFactory(incident=shymkent_case, person=baialy)
    DetentionFactory(incident=shymkent_case, person=duplicate)
    ombudsman = OrganizationFactory(name="Ombudsman", slug="ombudsman")
    AllegationFactory(detention=in_almaty, alleged_by_organization=ombudsman)
    IncidentEventFactory(incident=almaty_case, location=checkpoint)
    ministry = OrganizationFactory(name="Ministry", slug="ministry")
    PositionFactory(person=vikram, organization=ministry, title="Adviser")
    twin_post = PositionFactory(person=duplicate, organization=ministry, title="Adviser")
    gknb = OrganizationFactory(name="GKNB", slug="gknb")
    said_by_gknb = StatementFactory(speaker_organization=gknb, text="GKNB said so.")
    said_by_duplicate = StatementFactory(
        speaker_person=duplicate, speaker_organization=None, position=twin_post
    )
    said_by_duplicate.incidents.add(almaty_case)
    for record in (almaty_case, shymkent_case, vikram, duplicate, baialy, in_almaty):
        record.sources.add(source)
    for record in (in_shymkent, said_by_gknb, said_by_duplicate):
        record.sources.add(source)
    return {
        "source": source,
        "almaty": almaty,
        "almaty_case": almaty_case,
        "shymkent_case": shymkent_case,
        "vikram": vikram,
        "duplicate": duplicate,
        "baialy": baialy,
        "unrest": unrest,
        "said_by_gknb": said_by_gknb,
        "twin_post": twin_post,
    }


def publish_again(record, *, editor, reviewer) -> None:
    workflow.submit_for_review(record=record, user=editor)
    workflow.publish(record=record, user=reviewer)


def answered(response, status: int) -> None:
    assert response.status_code == status, response.content


def saved_by(record, user, **changes) -> None:
    for name, value in changes.items():
        setattr(record, name, value)
    record._history_user = user
    record.save()


def test_a_mirror_from_updated_since_and_removals_equals_the_public_api(
    api, admin_api, world, editor, reviewer
):
    mirror = Mirror(api)
    w = world

    def refreshed(record):
        return type(record)._base_manager.get(pk=record.pk)

    steps = [
        ("the first copy", lambda: None),
        (
            "renaming a place (its cases' items show it)",
            lambda: saved_by(refreshed(w["almaty"]), reviewer, name="Almaty city"),
        ),
        (
            "coordinates for the country (the map point of every case inside it)",
            lambda: saved_by(
                Location.objects.get(slug="kazakhstan"),
                reviewer,
                latitude=48,
                longitude=67,
                coordinate_precision="country",
            ),
        ),
        (
            "retitling the situation",
            lambda: saved_by(refreshed(w["unrest"]), reviewer, title="Unrest of January 2022"),
        ),
        (
            "an edit proposed by an editor and published",
            lambda: edit_by_proposal(w, editor, reviewer),
        ),
        (
            "unpublishing a case (its detention, its places, an accuser go with it)",
            lambda: workflow.unpublish(record=w["almaty_case"], user=reviewer),
        ),
        (
            "publishing it again",
            lambda: publish_again(refreshed(w["almaty_case"]), editor=editor, reviewer=reviewer),
        ),
        (
            "archiving a statement (its organization is no longer used)",
            lambda: workflow.archive(record=w["said_by_gknb"], user=reviewer),
        ),
        (
            "restoring it",
            lambda: workflow.restore(record=refreshed(w["said_by_gknb"]), user=reviewer),
        ),
        (
            "archiving a case through the API",
            lambda: answered(admin_api.delete(f"{API}/incidents/{w['shymkent_case'].pk}/"), 204),
        ),
        (
            "restoring it",
            lambda: workflow.restore(record=refreshed(w["shymkent_case"]), user=reviewer),
        ),
        (
            "unpublishing a person through the API (their detention goes)",
            lambda: answered(
                admin_api.patch(
                    f"{API}/people/{w['baialy'].pk}/", {"publication_state": "draft"}, format="json"
                ),
                200,
            ),
        ),
        (
            "publishing them again",
            lambda: publish_again(refreshed(w["baialy"]), editor=editor, reviewer=reviewer),
        ),
        (
            "merging two records of one person (a shared post is deleted)",
            lambda: merge_persons(keep=w["vikram"], merge=w["duplicate"], user=reviewer),
        ),
        (
            "withholding the merged person's identity (posts and name leave)",
            lambda: saved_by(refreshed(w["vikram"]), reviewer, identity_withheld=True),
        ),
        (
            "unpublishing a source by a plain save",
            lambda: saved_by(
                refreshed(w["source"]), reviewer, publication_state=PublicationState.DRAFT
            ),
        ),
        ("nothing at all", lambda: None),
    ]
    for step, act in steps:
        act()
        mirror.sync()
        assert_mirror_is_public(mirror, step)

    # The sequence did what it says: things left and came back.
    assert not Person.objects.published().filter(pk=w["duplicate"].pk).exists()
    assert not Position.objects.filter(pk=w["twin_post"].pk).exists()
    assert PublicUse.objects.filter(public=False).exists()
    assert Detention.objects.published().filter(incident=w["almaty_case"]).exists()


def edit_by_proposal(w, editor, reviewer) -> None:
    case = type(w["almaty_case"])._base_manager.get(pk=w["almaty_case"].pk)
    case.title = "Vikram Ruzakhunov, Almaty"
    revision = revisions.propose(case, user=editor)
    revisions.publish_revision(revision=revision, user=reviewer)


def test_each_step_moves_only_what_changed(api, world, reviewer):
    """The feed is not a full copy each time: after a visit, a change to one case brings
    that case and what its items show, not every record."""
    mirror = Mirror(api)
    mirror.sync()
    since = mirror.since.isoformat()

    saved_by(
        type(world["shymkent_case"])._base_manager.get(pk=world["shymkent_case"].pk),
        reviewer,
        summary="Checked again.",
    )

    changed = {
        resource: set(every_item(api, resource, updated_since=since)) for resource in RESOURCES
    }
    removed = api.get(f"{API}/removals/", {"since": since}).json()["results"]
    assert changed["incidents"] == {world["shymkent_case"].pk}
    assert changed["detentions"] == set(
        Detention.objects.filter(incident=world["shymkent_case"]).values_list("pk", flat=True)
    )
    assert not any(changed[resource] for resource in ("people", "statements", "sources"))
    assert removed == []


# --- updated_since and removals on every resource ------------------------------------------


def one_public_record_each() -> None:
    """A public record in every list: a case with its place, a detention, a post of a
    public person, a statement by a public organization."""
    position = PositionFactory()
    detention = DetentionFactory(person=position.person)
    StatementFactory(speaker_person=position.person, position=position)
    AllegationFactory(detention=detention)
    SourceFactory()


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_list_honours_updated_since(api, resource):
    one_public_record_each()
    later = (timezone.now() + datetime.timedelta(minutes=5)).isoformat()

    everything = api.get(f"{API}/{resource}/", {"updated_since": "2000-01-01T00:00:00Z"})
    nothing = api.get(f"{API}/{resource}/", {"updated_since": later})
    refused = api.get(f"{API}/{resource}/", {"updated_since": "last tuesday"})

    assert everything.status_code == 200
    assert everything.json()["results"], "the record is public and changed since 2000"
    assert nothing.status_code == 200
    assert nothing.json()["results"] == []
    assert refused.status_code == 400
    assert list(refused.json()) == ["updated_since"]


def removal_ids(api, since) -> set[tuple[str, int]]:
    response = api.get(f"{API}/removals/", {"since": since.isoformat()})
    assert response.status_code == 200, response.content
    return {(row["type"], row["id"]) for row in response.json()["results"]}


def test_places_and_organizations_no_longer_used_are_removals(api, reviewer):
    case = IncidentFactory(location=LocationFactory(name="Samsy", slug="samsy"))
    case.sources.add(SourceFactory())
    accused = AllegationFactory(detention=DetentionFactory(incident=case))
    never_public = LocationFactory(name="Draft place", slug="draft-place")
    IncidentFactory(location=never_public, publication_state=PublicationState.DRAFT)
    IncidentFactory()  # another case in the country keeps the country public
    before = timezone.now()
    removal_ids(api, before)  # a visit: what is public now is recorded

    workflow.unpublish(record=case, user=reviewer)

    removed = removal_ids(api, before)
    assert ("location", case.location_id) in removed
    assert ("organization", accused.alleged_by_organization_id) in removed
    assert ("location", never_public.pk) not in removed
    assert ("location", case.location.parent_id) not in removed


def test_a_post_deleted_by_a_merge_and_the_merged_person_are_removals(api, reviewer):
    keep, merge = PersonFactory(), PersonFactory()
    ministry = OrganizationFactory()
    PositionFactory(person=keep, organization=ministry, title="Adviser")
    twin = PositionFactory(person=merge, organization=ministry, title="Adviser")
    moved = DetentionFactory(person=merge)
    before = timezone.now()
    removal_ids(api, before)

    merge_persons(keep=keep, merge=merge, user=reviewer)

    removed = removal_ids(api, before)
    assert ("position", twin.pk) in removed
    assert ("person", merge.pk) in removed
    assert ("detention", moved.pk) not in removed
    changed = every_item(api, "detentions", updated_since=before.isoformat())
    assert changed[moved.pk]["person"]["id"] == keep.pk


def test_a_post_of_a_person_withheld_is_a_removal_and_nothing_public_is(api, reviewer):
    post = PositionFactory()
    other = PositionFactory()
    before = timezone.now()
    removal_ids(api, before)

    saved_by(post.person, reviewer, identity_withheld=True)

    removed = removal_ids(api, before)
    assert ("position", post.pk) in removed
    assert ("person", post.person_id) in removed  # identity_withheld: drop the name
    assert ("position", other.pk) not in removed
