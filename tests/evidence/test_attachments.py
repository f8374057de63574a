"""Files attached to records (evidence/attachments.py) and how every evidence file is served
(evidence/public/views.py): type from the content, size limit, always a download, public
only when the record is published and the file is marked public, never a withheld person's."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cabar_tracker.publishing import PublicationState
from evidence.attachments import attach_file, remove, set_public
from evidence.models import Attachment
from tests.evidence.conftest import PIXEL
from tests.factories import DetentionFactory, IncidentFactory, PersonFactory, SourceFactory

pytestmark = pytest.mark.django_db

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
DRAFT = PublicationState.DRAFT


def upload(name: str, content: bytes, content_type: str = "text/plain") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def download(client, attachment):
    return client.get(reverse("evidence:attachment_file", args=[attachment.pk]))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_served_as_download(response, content: bytes):
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert body(response) == content


# --- the type and the size ------------------------------------------------------------------


def test_the_type_comes_from_the_content_not_the_name(reviewer):
    png_named_txt = attach_file(
        record=SourceFactory(), upload=upload("notes.txt", PIXEL), user=reviewer
    )
    pdf_named_png = attach_file(
        record=SourceFactory(),
        upload=upload("photo.png", b"%PDF-1.4 rest", "image/png"),
        user=reviewer,
    )
    assert png_named_txt.content_type == "image/png"
    assert pdf_named_png.content_type == "application/pdf"
    assert png_named_txt.size == len(PIXEL) and len(png_named_txt.sha256) == 64


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [("page.html", HTML, "text/html"), ("a.svg", SVG, "image/svg+xml")],
)
def test_html_and_svg_are_never_served_inline(client, reviewer, name, content, claimed):
    attachment = attach_file(
        record=SourceFactory(), upload=upload(name, content, claimed), user=reviewer, is_public=True
    )
    assert attachment.content_type == "application/octet-stream"

    response = download(client, attachment)

    assert_served_as_download(response, content)
    assert response["Content-Type"] == "application/octet-stream"
    assert name in response["Content-Disposition"]


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(settings, editor):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="larger than"):
        attach_file(record=SourceFactory(), upload=upload("a.bin", b"x" * 11), user=editor)
    assert not Attachment.objects.exists()


# --- who sees it ----------------------------------------------------------------------------


def test_a_public_attachment_of_a_published_record_is_public(client, reviewer):
    attachment = attach_file(
        record=SourceFactory(), upload=upload("a.png", PIXEL), user=reviewer, is_public=True
    )
    assert_served_as_download(download(client, attachment), PIXEL)
    assert response_type(download(client, attachment)) == "image/png"


def response_type(response) -> str:
    return response["Content-Type"]


def test_a_staff_only_attachment_is_not_public(client, editor_client, editor):
    attachment = attach_file(record=SourceFactory(), upload=upload("a.png", PIXEL), user=editor)
    assert download(client, attachment).status_code == 404
    assert download(editor_client, attachment).status_code == 200


def test_a_draft_records_attachments_are_not_public(client, reviewer):
    for record in (
        SourceFactory(publication_state=DRAFT),
        IncidentFactory(publication_state=DRAFT),
        DetentionFactory(publication_state=DRAFT),
    ):
        attachment = attach_file(
            record=record, upload=upload("a.png", PIXEL), user=reviewer, is_public=True
        )
        assert download(client, attachment).status_code == 404, record


def test_a_withheld_persons_attachments_are_never_public(client, reviewer):
    detention = DetentionFactory(person=PersonFactory(identity_withheld=True))
    attachment = attach_file(
        record=detention, upload=upload("a.png", PIXEL), user=reviewer, is_public=True
    )
    assert download(client, attachment).status_code == 404
    public = attach_file(
        record=DetentionFactory(), upload=upload("a.png", PIXEL), user=reviewer, is_public=True
    )
    assert download(client, public).status_code == 200


def test_a_removed_attachment_is_served_to_nobody(client, editor_client, reviewer):
    attachment = attach_file(
        record=SourceFactory(), upload=upload("a.png", PIXEL), user=reviewer, is_public=True
    )
    remove(attachment=attachment, user=reviewer)
    assert download(client, attachment).status_code == 404
    assert download(editor_client, attachment).status_code == 404
    assert attachment.history.count() == 2  # added, removed


def test_only_a_reviewer_makes_an_attachment_public(editor, reviewer):
    attachment = attach_file(record=SourceFactory(), upload=upload("a.png", PIXEL), user=editor)
    with pytest.raises(PermissionDenied):
        set_public(attachment=attachment, public=True, user=editor)
    with pytest.raises(PermissionDenied):
        attach_file(
            record=SourceFactory(), upload=upload("b.png", PIXEL), user=editor, is_public=True
        )
    set_public(attachment=attachment, public=True, user=reviewer)
    with pytest.raises(PermissionDenied):
        remove(attachment=attachment, user=editor)  # would take it off the public site
    assert [h.is_public for h in attachment.history.order_by("history_id")] == [False, True]


# --- the staff pages ------------------------------------------------------------------------


def test_an_editor_attaches_a_file_on_the_source_page(editor_client, editor):
    source = SourceFactory()
    url = reverse("staff:source_attachment_add", args=[source.pk])

    response = editor_client.post(
        url, {"file": upload("letter.pdf", b"%PDF-1.4 letter"), "description": "Ministry letter"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:source_edit", args=[source.pk]) + "#evidence"
    attachment = source.attachments.get()
    assert (attachment.uploaded_by, attachment.is_public) == (editor, False)
    page = editor_client.get(response["Location"]).content.decode()
    assert "letter.pdf" in page and attachment.sha256 in page and "Ministry letter" in page
    assert "Make public" not in page  # a reviewer's button


def test_a_reviewer_makes_it_public_from_the_page(reviewer_client, editor):
    attachment = attach_file(record=IncidentFactory(), upload=upload("a.png", PIXEL), user=editor)
    response = reviewer_client.post(
        reverse("staff:attachment_public", args=[attachment.pk]), {"public": "1"}
    )
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.is_public


def test_an_editor_cannot_make_it_public_from_the_page(editor_client, editor):
    attachment = attach_file(record=SourceFactory(), upload=upload("a.png", PIXEL), user=editor)
    response = editor_client.post(
        reverse("staff:attachment_public", args=[attachment.pk]), {"public": "1"}
    )
    assert response.status_code == 403
    attachment.refresh_from_db()
    assert not attachment.is_public


def test_the_page_names_a_refused_file(editor_client, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    source = SourceFactory()
    response = editor_client.post(
        reverse("staff:source_attachment_add", args=[source.pk]),
        {"file": upload("big.bin", b"x" * 50)},
        follow=True,
    )
    assert "The file is larger than" in response.content.decode()
    assert not Attachment.objects.exists()
