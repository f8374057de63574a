"""A capture of an HTML page rendered in headless Chromium (evidence.capture.render): a
full-page PNG screenshot and a PDF of the bytes received. Skipped without Chromium, failed on
CI without it, like the other browser tests (tests/browser/conftest.py)."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from django.core.files.storage import default_storage

from evidence.capture import request_capture
from evidence.models import CaptureStatus
from tests.browser.conftest import CHROMIUM, SCREENSHOTS, on_ci
from tests.evidence.conftest import capture_settings, web_server  # noqa: F401 (fixtures)
from tests.factories import SourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian's chromium package to run this)"
        if on_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


def test_an_html_capture_gets_a_screenshot_and_a_pdf(chromium, web_server, capture_settings):  # noqa: F811
    capture_settings.CAPTURE_RENDER = True
    capture_settings.CAPTURE_CHROMIUM = str(CHROMIUM)
    capture_settings.CAPTURE_TIMEOUT_SECONDS = 20

    capture = request_capture(source=SourceFactory(url=f"{web_server}/page.html"))

    assert capture.status == CaptureStatus.DONE, capture.reason
    assert capture.render_note == ""
    with default_storage.open(capture.screenshot.name, "rb") as stored:
        png = stored.read()
    with default_storage.open(capture.pdf.name, "rb") as stored:
        pdf = stored.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1280 and height >= 900  # the full page, at the viewport's width
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(png).hexdigest() == capture.screenshot_sha256
    assert hashlib.sha256(pdf).hexdigest() == capture.pdf_sha256
    # Kept for a person to look at, with the browser tests' screenshots.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(default_storage.path(capture.screenshot.name), SCREENSHOTS / "capture.png")
