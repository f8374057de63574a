"""A mirror that loses nothing (issue 13, item 5): what `updated_since` and the removals
feed compare, for every resource of the API.

A mirror keeps a copy of the public lists by asking each list for what changed since its
last visit (`?updated_since=`) and the removals feed for what left (`/removals/?since=`).
It loses data whenever a list item changes, appears or disappears without the timestamp
that `updated_since` compares moving. That happens in two ways, and both are answered here
rather than by every door, so that a staff page, the admin, the API, the importer and a
merge all count the same:

- An item shows other records: a detention its incident, person and places, an incident
  its situation and place (and, for its map point, the places around it), a statement its
  speaker, the post held and its situation, a post its holder and organization, a place or
  an organization the one it is inside. Such an item changed when any of them did, and is
  public only while they are: a detention is back on the site when its incident is
  published again although its own row did not change. So each resource's condition is its
  own `updated_at` OR that of every record its item shows (`*_changed_since`), each part
  read by its own index (`_keys_or_condition`). A place or an organization appears when a
  public record that uses it changes (is published, restored, edited, shown again with its
  case): `places_used_since`, `organizations_used_since`. Every save moves `updated_at`
  (`VersionedModel.save`, the workflow's state changes), so publishing, unpublishing,
  archiving, restoring and merging show up without bookkeeping of their own. (A bulk
  `QuerySet.update()` does not, as in Django; no write path of the application uses one
  on a record a list shows.)

- Places, organizations and posts have no publication state: they are public while
  something public uses them (`in_public_use()`, `visible_positions`), and leave when
  nothing does, with no row of theirs to say when; a post can even be deleted (a merge).
  `PublicUse` records it for the removals feed: `bring_public_use_up_to_date` compares what
  is public now with the state it last recorded and records each difference at the moment
  it looks. It runs when a mirror asks (the removals feed, `updated_since` on those three
  lists), so whatever a mirror copied is recorded as public by that visit at the latest,
  and its leaving is recorded at a time after the visit. A row is made only when a record
  is seen in public use, so the feed names only what the public could have copied.

A mirror applies the removals first, then the changes: a person whose identity became
withheld is in both (drop the name, then store the neutral label).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from incidents.models import (
    Allegation,
    Detention,
    Incident,
    IncidentEvent,
    Location,
    PublicUse,
    PublicUseKind,
    Situation,
    Source,
    Statement,
)
from people.models import Organization, Person, Position, visible_positions

# Up to this many rows changed since then, a resource's condition is the list of their keys
# (each part read by its own index); beyond it, the OR of the parts itself, which then
# matches most rows anyway (a mirror's first, full copy), so the list finds its first page
# quickly in its own order. As one OR of subqueries on different columns, both databases
# tested every row of a list to find that nothing changed (1.4 s for the detentions at
# 100,000 incidents).
ID_LIMIT = 10_000


def _keys(model, parts: list[Q]) -> list[int] | None:
    """The keys of the rows of `model` matching any of `parts`, read part by part, or None
    when more than `ID_LIMIT` do."""
    keys: set[int] = set()
    for part in parts:
        found = model._base_manager.filter(part).order_by().values_list("pk", flat=True)
        keys.update(found[: ID_LIMIT + 1])
        if len(keys) > ID_LIMIT:
            return None
    return sorted(keys)


def _keys_or_condition(model, parts: list[Q]) -> Q:
    """`Q(pk__in=[…])` for the rows of `model` matching any of `parts`; the OR of the
    parts when more than `ID_LIMIT` match."""
    keys = _keys(model, parts)
    if keys is not None:
        return Q(pk__in=keys)
    condition = Q()
    for part in parts:
        condition |= part
    return condition


def _changed(model, since: datetime.datetime) -> QuerySet:
    """The keys of the rows of `model` written since then, whatever their state (archived
    and draft rows included: their leaving is a change too)."""
    return model._base_manager.filter(updated_at__gte=since).values("pk")


# --- updated_since, resource by resource ---------------------------------------------------


def places_around_changed(since: datetime.datetime) -> QuerySet:
    """The keys of the places written since then and of every place inside them: an
    incident's map point is its place's coordinates or those of the nearest place around it
    that has some. Read as the few changed subtrees' path prefixes (a place inside another
    changed one adds nothing), so the condition stays short even for a mirror's first,
    full copy."""
    paths = sorted(
        Location._base_manager.filter(updated_at__gte=since).values_list("path", flat=True)
    )
    prefixes: list[str] = []
    for path in paths:
        if not prefixes or not path.startswith(prefixes[-1]):
            prefixes.append(path)
    if not prefixes:
        return Location._base_manager.none().values("pk")
    inside = Q()
    for prefix in prefixes:
        inside |= Q(path__startswith=prefix)
    return Location._base_manager.filter(inside).values("pk")


def incidents_changed_since(since: datetime.datetime) -> Q:
    """An incident item shows its situation (or null while it is not public), its place and
    a map point taken from the places around it."""
    return _keys_or_condition(
        Incident,
        [
            Q(updated_at__gte=since),
            Q(situation_id__in=_changed(Situation, since)),
            Q(location_id__in=places_around_changed(since)),
        ],
    )


def detentions_changed_since(since: datetime.datetime) -> Q:
    """A detention is public only with its incident and its person, and its item shows
    both and its places of custody and release. The incident's `updated_at` also moves with
    a change to any part of the case (`permalinks`): an allegation added, for one."""
    return _keys_or_condition(Detention, _detention_parts(since))


def _detention_parts(since: datetime.datetime) -> list[Q]:
    return [
        Q(updated_at__gte=since),
        Q(incident_id__in=_changed(Incident, since)),
        Q(person_id__in=_changed(Person, since)),
        Q(custody_location_id__in=_changed(Location, since)),
        Q(release_location_id__in=_changed(Location, since)),
    ]


def statements_changed_since(since: datetime.datetime) -> Q:
    """A statement item shows its speaker (named as the reader may see them), the speaking
    organization, the post held then with its organization, and its situation."""
    organizations = _changed(Organization, since)
    return _keys_or_condition(
        Statement,
        [
            Q(updated_at__gte=since),
            Q(speaker_person_id__in=_changed(Person, since)),
            Q(speaker_organization_id__in=organizations),
            Q(position_id__in=_changed(Position, since)),
            Q(position__organization_id__in=organizations),
            Q(situation_id__in=_changed(Situation, since)),
        ],
    )


def positions_changed_since(since: datetime.datetime) -> Q:
    """A post is public only with its holder's name, and its item shows the holder and the
    organization."""
    return _keys_or_condition(
        Position,
        [
            Q(updated_at__gte=since),
            Q(person_id__in=_changed(Person, since)),
            Q(organization_id__in=_changed(Organization, since)),
        ],
    )


def _public_changes(since: datetime.datetime) -> tuple[QuerySet, QuerySet] | None:
    """The public incidents and detentions that changed, or came into view with their
    incident or person, since then; None when more than `ID_LIMIT` of either did (a
    mirror's first copy): then nearly everything in public use may be new to it."""
    incident_keys = _keys(Incident, [Q(updated_at__gte=since)])
    detention_keys = _keys(Detention, _detention_parts(since))
    if incident_keys is None or detention_keys is None:
        return None
    return (
        Incident.objects.published().filter(pk__in=incident_keys),
        Detention.objects.published().filter(pk__in=detention_keys),
    )


def places_used_since(since: datetime.datetime) -> QuerySet | list[int]:
    """The keys of the places a public record that changed since then uses, and of the
    places they are inside: every place that may have come into public use since then
    (a place enters it only when such a record is published, restored, edited or shown
    again with its case). The same uses as `LocationQuerySet.in_public_use`."""
    changes = _public_changes(since)
    if changes is None:
        return Location.objects.in_public_use().values("pk")
    incidents, detentions = changes
    used = Location._base_manager.filter(
        Q(pk__in=incidents.values("location_id"))
        | Q(pk__in=detentions.values("custody_location_id"))
        | Q(pk__in=detentions.values("release_location_id"))
        | Q(pk__in=IncidentEvent.objects.filter(incident__in=incidents).values("location_id"))
    )
    return sorted(
        {
            int(part)
            for path in used.values_list("path", flat=True)
            for part in path.split("/")
            if part
        }
    )


def organizations_used_since(since: datetime.datetime) -> Q:
    """The organizations a public record that changed since then names, and the bodies
    they are part of (the uses of `OrganizationQuerySet.in_public_use`)."""
    changes = _public_changes(since)
    if changes is None:
        return Q(pk__in=Organization.objects.in_public_use().values("pk"))
    speakers = Statement.objects.published().filter(updated_at__gte=since)
    accusers = Allegation.objects.filter(
        alleged_by_organization__isnull=False, detention__in=changes[1]
    )
    posts = visible_positions(None).filter(positions_changed_since(since))
    used = Organization._base_manager.filter(
        Q(pk__in=speakers.values("speaker_organization"))
        | Q(pk__in=accusers.values("alleged_by_organization"))
        | Q(pk__in=posts.values("organization"))
    )
    return (
        Q(pk__in=used.values("pk"))
        | Q(pk__in=used.values("parent"))
        | Q(pk__in=used.values("parent__parent"))
    )


def locations_changed_since(since: datetime.datetime) -> Q:
    """A place item shows the place it is inside; a place appears when something public
    starts using it (or a place inside it)."""
    return (
        Q(updated_at__gte=since)
        | Q(parent_id__in=_changed(Location, since))
        | Q(pk__in=places_used_since(since))
    )


def organizations_changed_since(since: datetime.datetime) -> Q:
    """An organization item shows the body it is part of; an organization appears when a
    public record starts naming it (or a body inside it)."""
    return (
        Q(updated_at__gte=since)
        | Q(parent_id__in=_changed(Organization, since))
        | organizations_used_since(since)
    )


# --- public use of places, organizations and posts ----------------------------------------


def public_now(kind: str) -> QuerySet:
    """The keys of the records of `kind` the public sees now."""
    if kind == PublicUseKind.LOCATION:
        return Location.objects.in_public_use().values_list("pk", flat=True)
    if kind == PublicUseKind.ORGANIZATION:
        return Organization.objects.in_public_use().values_list("pk", flat=True)
    return visible_positions(None).values_list("pk", flat=True)


def bring_public_use_up_to_date(kinds=tuple(PublicUseKind.values)) -> None:
    """Record, at this moment, every record of `kinds` that entered or left public use
    since the last look. Two requests doing this at once record the same differences; the
    later one's time stands, which only makes a mirror fetch a record once more.

    The time is taken before reading what is public: a change committed after the read is
    found by the next look, at a later time, and one committed before it is recorded no
    earlier than it happened."""
    for kind in kinds:
        now = timezone.now()
        with transaction.atomic():
            public = set(public_now(kind))
            recorded = dict(PublicUse.objects.filter(kind=kind).values_list("object_id", "public"))
            entered = [pk for pk in public if recorded.get(pk) is not True]
            left = [pk for pk, was_public in recorded.items() if was_public and pk not in public]
            if entered:
                PublicUse.objects.bulk_create(
                    [
                        PublicUse(kind=kind, object_id=pk, public=True, changed_at=now)
                        for pk in entered
                    ],
                    update_conflicts=True,
                    unique_fields=["kind", "object_id"],
                    update_fields=["public", "changed_at"],
                    batch_size=500,
                )
            if left:
                for start in range(0, len(left), 500):
                    PublicUse.objects.filter(
                        kind=kind, object_id__in=left[start : start + 500]
                    ).update(public=False, changed_at=now)


def left_public_use(kind: str, since: datetime.datetime) -> list[int]:
    """The keys of the records of `kind` that were public once and are not now, having
    left since then (a post deleted when two persons were merged included)."""
    return list(
        PublicUse.objects.filter(kind=kind, public=False, changed_at__gte=since).values_list(
            "object_id", flat=True
        )
    )


# --- removals ------------------------------------------------------------------------------


class RemovalReason:
    ARCHIVED = "archived"
    UNPUBLISHED = "unpublished"
    INCIDENT_REMOVED = "incident_removed"
    PERSON_REMOVED = "person_removed"
    IDENTITY_WITHHELD = "identity_withheld"
    NO_LONGER_USED = "no_longer_used"
    CHOICES = [
        ARCHIVED,
        UNPUBLISHED,
        INCIDENT_REMOVED,
        PERSON_REMOVED,
        IDENTITY_WITHHELD,
        NO_LONGER_USED,
    ]


# The records a mirror may have to drop, by the type name the feed gives them.
PUBLISHABLE = [
    ("incident", Incident),
    ("detention", Detention),
    ("person", Person),
    ("situation", Situation),
    ("statement", Statement),
    ("source", Source),
]
USED = [
    ("location", PublicUseKind.LOCATION),
    ("organization", PublicUseKind.ORGANIZATION),
    ("position", PublicUseKind.POSITION),
]
REMOVABLE_TYPES = [name for name, _model in PUBLISHABLE] + [name for name, _kind in USED]


def removed_since(since: datetime.datetime) -> list[dict]:
    """Records a mirror may hold (they were public once) that left the public since
    `since`, or changed in a way that must remove a name, sorted by type and key.

    For the publishable records "unpublished since" is "not published now and changed
    since": there is no other record of when a record was unpublished, and a record edited
    after it was unpublished is listed again, which only makes a mirror drop what it had
    dropped already. Places, organizations and posts come from `PublicUse`."""
    ever_published = Q(published_at__isnull=False)
    # A detention was public only if its incident and its person were published too: a
    # detention published inside a case that never was has never been on the site.
    detention_ever_public = (
        ever_published
        & Q(incident__published_at__isnull=False)
        & Q(person__published_at__isnull=False)
    )
    # Archiving and unpublishing move `updated_at` (every save does): each condition
    # starts from its index.
    changed = Q(updated_at__gte=since)
    archived = changed & Q(archived_at__gte=since)
    unpublished = changed & ~Q(publication_state=PublicationState.PUBLISHED)
    gone = ever_published & (archived | unpublished)

    results: list[dict] = []

    def add(type_name: str, reason: str, ids) -> None:
        results.extend({"type": type_name, "id": pk, "reason": reason} for pk in ids)

    for type_name, model in PUBLISHABLE:
        once_public = detention_ever_public if model is Detention else ever_published
        rows = model._base_manager.filter(once_public & (archived | unpublished)).values_list(
            "pk", "archived_at"
        )
        for pk, archived_at in rows:
            archived_now = archived_at is not None and archived_at >= since
            add(
                type_name,
                RemovalReason.ARCHIVED if archived_now else RemovalReason.UNPUBLISHED,
                [pk],
            )

    listed = {(row["type"], row["id"]) for row in results}
    removed_incidents = Incident._base_manager.filter(gone).values("pk")
    removed_persons = Person._base_manager.filter(gone).values("pk")
    for reason, condition in (
        (RemovalReason.INCIDENT_REMOVED, Q(incident__in=removed_incidents)),
        (RemovalReason.PERSON_REMOVED, Q(person__in=removed_persons)),
    ):
        ids = Detention._base_manager.filter(detention_ever_public & condition).values_list(
            "pk", flat=True
        )
        add("detention", reason, [pk for pk in ids if ("detention", pk) not in listed])
        listed |= {("detention", pk) for pk in ids}

    withheld = Person._base_manager.filter(
        ever_published, identity_withheld=True, updated_at__gte=since, archived_at__isnull=True
    ).exclude(pk__in=[pk for kind, pk in listed if kind == "person"])
    add("person", RemovalReason.IDENTITY_WITHHELD, withheld.values_list("pk", flat=True))

    bring_public_use_up_to_date()
    for type_name, kind in USED:
        add(type_name, RemovalReason.NO_LONGER_USED, left_public_use(kind, since))
    return sorted(results, key=lambda row: (row["type"], row["id"]))
