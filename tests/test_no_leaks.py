"""Nothing restricted reaches an anonymous reader, on any public URL.

The data holds a withheld person, staff-only notes, follow-up actions, drafts and archived
records, each carrying a marker string. The test walks EVERY URL pattern outside the staff,
admin and account areas (so a page or endpoint added later is covered without editing this
file), requests it anonymously with each record's id or slug and with searches for the
hidden names, in every format, and asserts no marker appears in any response.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from cabar_tracker.publishing import PublicationState
from evidence.attachments import attach_file
from evidence.models import Attachment, Capture
from incidents.export_jobs import start_export
from incidents.models import ExportKind, ImportJob
from people.models import NameKind
from tests import factories

pytestmark = pytest.mark.django_db

# Lower-case fragments that must never reach an anonymous reader.
MARKERS = [
    "withheldname",
    "markerov",
    "маркеров",
    "markerova",
    "staffnote",
    "followup-marker",
    "draftincident",
    "draftperson",
    "hiddenov",
    "draftstatement",
    "draftsource",
    "archived-marker",
    # The post a withheld or unpublished speaker held names them as surely as their name.
    "postmarker",
    # The citizenship of a speaker whose own record is not published yet.
    "mongolia",
    # A place and an organization entered with a draft case, which nothing published uses
    # yet: their names and the place's exact coordinates.
    "draftplace",
    "77.123456",
    "draftorg",
    # The slug a withheld person's name would give (their slug is random instead).
    "withheldname-markerov",
    # A CSV file sent for import and its report (staff-only; it may name withheld persons).
    "importfile-marker",
    # An account of a draft detention's fact (its note).
    "draftaccount",
    # Attached files and captures that are not public: their names, descriptions, contents.
    "attachmarker",
    "capturemarker",
]

# Pages that list every country by name (the API schema's enumeration of citizenship codes,
# the filter forms' country choices): the country marker says nothing there.
COUNTRY_LISTS = ("/api/v1/schema/",)

# Areas that are not public: they must refuse anonymous readers (tested elsewhere).
PRIVATE_PREFIXES = ("admin/", "staff/", "accounts/", "i18n/")

QUERY_VARIANTS = [
    "",
    "?q=Markerov",
    "?q=Маркеров",
    "?q=Withheldname",
    "?q=Hiddenov",
    "?search=Markerov",
    "?q=DRAFTINCIDENT",
    "?q=STAFFNOTE",
    "?format=csv",
    "?format=json",
    "?format=geojson",
]


@pytest.fixture
def restricted_world(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    place = factories.LocationFactory(slug="hidden-town", latitude=42, longitude=70)
    place.coordinate_precision = "city"
    place.save()
    incident = factories.IncidentFactory(
        slug="public-case", location=place, staff_notes="STAFFNOTE incident"
    )
    withheld = factories.PersonFactory(
        name="Withheldname Markerov",
        name_native="Маркеров Скрытый",
        slug="withheld-7",
        identity_withheld=True,
        staff_notes="STAFFNOTE person",
        birth_year=1990,
        occupation="Markerov Occupation",
    )
    factories.PersonNameFactory(person=withheld, name="Markerova Variant")
    other = factories.PersonFactory(name="Public Person", slug="public-person")
    factories.PersonNameFactory(
        person=other,
        name="Withheldname Markerov",
        kind=NameKind.MISIDENTIFIED_AS,
        other_person=withheld,
    )
    detention = factories.DetentionFactory(
        incident=incident, person=withheld, staff_notes="STAFFNOTE detention"
    )
    factories.AllegationFactory(detention=detention, alleged_by_person=withheld)
    factories.FollowUpActionFactory(
        detention=detention, addressee="FOLLOWUP-MARKER", outcome="FOLLOWUP-MARKER outcome"
    )
    post = factories.PositionFactory(person=withheld, title="POSTMARKER head of the unit")
    organization = post.organization  # its page lists the posts held there
    statement = factories.StatementFactory(
        speaker_person=withheld, position=post, text="Said in public."
    )
    statement.people.add(withheld)
    statement.incidents.add(incident)

    draft = PublicationState.DRAFT
    draft_person = factories.PersonFactory(
        name="Draftperson Hiddenov", slug="draftperson-hiddenov", publication_state=draft
    )
    draft_incident = factories.IncidentFactory(
        title="DRAFTINCIDENT title", slug="draftincident", location=place, publication_state=draft
    )
    factories.DetentionFactory(incident=draft_incident, person=draft_person)
    # A place and an organization made for the draft case: drafts themselves until
    # something published uses them.
    draft_place = factories.LocationFactory(
        name="DRAFTPLACE village",
        slug="draftplace-village",
        parent=place,
        latitude=Decimal("43.123456"),
        longitude=Decimal("77.123456"),
    )
    draft_place.coordinate_precision = "exact"
    draft_place.save()
    factories.IncidentFactory(title="Second draft", location=draft_place, publication_state=draft)
    draft_organization = factories.OrganizationFactory(name="DRAFTORG unit", slug="draftorg")
    factories.StatementFactory(
        speaker_organization=draft_organization, text="Draft words.", publication_state=draft
    )
    factories.DetentionFactory(incident=incident, person=draft_person, publication_state=draft)
    factories.StatementFactory(text="DRAFTSTATEMENT text", publication_state=draft)
    # A published statement by a person whose record is not published yet: shown only as
    # "A person not yet published", without citizenship or post.
    unpublished_speaker = factories.PersonFactory(
        name="Draftperson Speaker", citizenship="MN", publication_state=draft
    )
    unpublished_post = factories.PositionFactory(
        person=unpublished_speaker, title="POSTMARKER deputy"
    )
    spoken = factories.StatementFactory(
        speaker_person=unpublished_speaker, position=unpublished_post, text="Public words."
    )
    spoken.incidents.add(incident)
    import_job = ImportJob.objects.create(
        file_name="importfile-marker.csv",
        content="person_name\nImportfile-Marker Withheldname\n",
        report={"errors": [{"row": 2, "column": None, "message": "IMPORTFILE-MARKER"}]},
    )
    incident.sources.add(factories.SourceFactory(title="DRAFTSOURCE", publication_state=draft))
    # Accounts of the public detention's facts: one asserted by the withheld person (shown
    # only as their label), one by a person not yet published, one citing a draft source;
    # and an account of a draft detention, telling of the draft place.
    factories.AccountFactory(
        detention=detention, asserted_by_person=withheld, asserted_by_text="to a newspaper"
    )
    factories.AccountFactory(
        detention=detention,
        fact="detaining_authority",
        value_location=None,
        value_text="the military",
        asserted_by_person=draft_person,
        sources=[factories.SourceFactory(title="DRAFTSOURCE two", publication_state=draft)],
    )
    draft_detention = factories.DetentionFactory(
        incident=incident, person=factories.PersonFactory(), publication_state=draft
    )
    factories.AccountFactory(
        detention=draft_detention, value_location=draft_place, note="DRAFTACCOUNT note"
    )

    # Evidence no anonymous reader may get: files attached to a draft source, a withheld
    # person's detention (marked public all the same), a published case but staff-only, and
    # one removed; a capture of a draft source and a failed capture of a published one.
    def attach(record, name, **flags):
        attachment = attach_file(
            record=record,
            upload=SimpleUploadedFile(f"{name}.html", f"<p>{name} content</p>".encode()),
            user=None,
            description=f"{name} description",
        )
        Attachment.objects.filter(pk=attachment.pk).update(**flags)

    draft_source = factories.SourceFactory(title="DRAFTSOURCE three", publication_state=draft)
    attach(draft_source, "ATTACHMARKER-draft", is_public=True)
    attach(detention, "ATTACHMARKER-withheld", is_public=True)
    attach(incident, "ATTACHMARKER-staff-only")
    attach(incident, "ATTACHMARKER-removed", is_public=True, archived_at=timezone.now())
    public_source = factories.SourceFactory(title="Public source")
    incident.sources.add(public_source)
    for source, status in ((draft_source, "done"), (public_source, "failed")):
        capture = Capture.objects.create(
            source=source, url=source.url, sha256="0" * 64, reason="CAPTUREMARKER"
        )
        capture.status = status
        capture.warc.save("c.warc.gz", ContentFile(b"CAPTUREMARKER warc"), save=False)
        capture.pdf.save("c.pdf", ContentFile(b"CAPTUREMARKER pdf"), save=False)
        capture.screenshot.save("c.png", ContentFile(b"CAPTUREMARKER png"), save=False)
        capture.save()
    factories.IncidentFactory(
        title="ARCHIVED-MARKER case",
        slug="archived-marker",
        location=place,
        archived_at=datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC),
    )
    # Export jobs (an export too large to stream): a public one, written with the public's
    # view, which the walk downloads by its address; and a staff member's, whose file holds
    # drafts and which the public must not reach even with its address.
    job = {"query": "", "language": "en", "site_url": "http://testserver"}
    public_export = start_export(kind=ExportKind.DETENTIONS_CSV, user=None, **job)
    staff_export = start_export(
        kind=ExportKind.INCIDENTS_CSV, user=factories.StaffUserFactory(username="owner"), **job
    )
    assert b"draftincident" in staff_export.file.open("rb").read().lower()
    return locals()


def public_patterns():
    """(route regex, pattern) for every URL outside the private areas."""

    def walk(resolver, prefix=""):
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry, route)
            elif isinstance(entry, URLPattern):
                yield route, entry

    for route, pattern in walk(get_resolver()):
        plain = route.lstrip("^")
        if not plain.startswith(PRIVATE_PREFIXES):
            yield plain, pattern


def fill(route: str, objects) -> list[str]:
    """Concrete paths for a route: every object's slug or pk in each placeholder."""
    placeholders = re.findall(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)", route)
    if not placeholders:
        path = re.sub(r"[\^$]", "", route).replace("\\", "")
        return [] if "(" in path else ["/" + path]
    paths = []
    for obj in objects:
        path = route
        for converter, name, regex_name in placeholders:
            key = name or regex_name
            value = obj.pk if key in ("pk", "id") or converter == "int" else getattr(obj, key, None)
            if value is None:
                break
            if regex_name:
                path = re.sub(rf"\(\?P<{regex_name}>[^)]*\)", str(value), path)
            else:
                path = re.sub(rf"<(?:\w+:)?{key}>", str(value), path)
        else:
            path = re.sub(r"[\^$]", "", path).replace("\\", "")
            if "(" not in path:
                paths.append("/" + path)
    return paths


def echoes(query: str) -> list[str]:
    """The forms in which a page may repeat the query string's value."""
    from urllib.parse import quote, quote_plus

    if "=" not in query:
        return []
    value = query.split("=", 1)[1]
    return [form.lower() for form in {value, quote(value), quote_plus(value)} if form]


def test_no_public_url_shows_anything_restricted(client, restricted_world):
    objects = [value for value in restricted_world.values() if hasattr(value, "pk")]
    checked = 0
    for route, _ in public_patterns():
        for path in sorted(set(fill(route, objects))):
            for query in QUERY_VARIANTS:
                response = client.get(path + query)
                assert response.status_code < 500, f"{path}{query}: {response.status_code}"
                if response.status_code in (301, 302, 303, 307, 308):
                    continue
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                text = body.decode("utf-8", errors="replace").lower()
                # A page may echo the reader's own search back ("results for …"): that is
                # not a leak, so the searched words themselves are taken out first.
                for echoed in echoes(query):
                    text = text.replace(echoed, "")
                leaked = [
                    marker
                    for marker in MARKERS
                    if marker in text and not (marker == "mongolia" and path in COUNTRY_LISTS)
                ]
                assert not leaked, f"{path}{query} shows {leaked}"
                checked += 1
    # The walk must really cover the site: home, the case, place, person pages and more.
    assert checked > 100, checked


def test_removals_list_nothing_that_was_never_public(client):
    """A mirror learns of removals of what it could have copied, and of nothing else: a
    draft archived, or a detention of a case never published, is not announced."""
    since = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()
    draft = factories.IncidentFactory(publication_state=PublicationState.DRAFT)
    never_public = factories.DetentionFactory(incident=draft)
    draft_source = factories.SourceFactory(publication_state=PublicationState.DRAFT)
    for record in (draft, never_public, draft_source):
        record.archived_at = timezone.now()
        record.save()
    once_public = factories.SourceFactory()
    once_public.archived_at = timezone.now()
    once_public.save()

    results = client.get("/api/v1/removals/", {"since": since}).json()["results"]

    listed = {(row["type"], row["id"]) for row in results}
    assert ("source", once_public.pk) in listed
    assert not listed & {
        ("incident", draft.pk),
        ("detention", never_public.pk),
        ("source", draft_source.pk),
    }


def test_two_versions_differing_only_in_hidden_values_share_their_public_etag(client):
    """The ETag is computed from what the caller receives, so a guessed hidden value (a
    withheld name, its variants, a post, a staff note) cannot be confirmed against it
    offline: the record with one set of hidden values and with another give one ETag."""
    from people.models import Person

    person = factories.PersonFactory(
        name="Withheldname Markerov", identity_withheld=True, staff_notes="STAFFNOTE a"
    )
    url = f"/api/v1/people/{person.pk}/"
    for round_number, query in enumerate(("", "?format=csv")):
        first = client.get(url + query)
        factories.PersonNameFactory(person=person, name=f"Markerova Variant {round_number}")
        factories.PositionFactory(person=person, title=f"POSTMARKER head {round_number}")
        Person.objects.filter(pk=person.pk).update(
            name=f"Hiddenov Other {round_number}",
            name_native="Маркеров",
            staff_notes=f"STAFFNOTE {round_number}",
        )
        second = client.get(url + query)
        assert first.content == second.content
        assert first["ETag"] == second["ETag"]
        text = second.content.decode().lower()
        assert not [marker for marker in MARKERS if marker in text]


def test_no_old_address_leads_the_public_to_a_withheld_or_hidden_record(client):
    """An old slug answers 301 with the current address (issue 13, item 4), but never for
    a withheld identity: its name-made slug, and any slug it had since, answer 404 with no
    Location header that would name its current (random) slug; nor for a record the public
    cannot see."""
    person = factories.PersonFactory(name="Withheldname Markerov", slug="withheldname-markerov")
    person.slug = "withheldname-markerov-2"
    person.save()
    person.identity_withheld = True
    person.save()
    hidden_slug = person.slug
    person.slug = "p-0123456789ab"
    person.save()
    draft = factories.IncidentFactory(slug="draft-old", publication_state=PublicationState.DRAFT)
    draft.slug = "draft-new"
    draft.save()

    for path in (
        "/people/withheldname-markerov/",
        "/people/withheldname-markerov-2/",
        f"/people/{hidden_slug}/",
        "/incidents/draft-old/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert not response.has_header("Location"), path
        body = response.content.decode().lower()
        assert "p-0123456789ab" not in body and "draft-new" not in body, path
