"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright
against pytest-django's live server.

Without Chromium the tests are skipped, so a newcomer without root still gets a green run;
on CI (CI=true) a missing Chromium fails them instead, so CI cannot pass without running them.
`python3 dev.py test` installs Chromium with apt-get when it can.

One browser serves the whole session; each test gets a fresh context (no cookies carried
over) and a page that records console errors, uncaught exceptions, Content Security Policy
violations and requests to other sites, which `Visitor.assert_clean()` turns into a failure.
Map tiles are answered locally with a grey tile, so the tests never use the network.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, Route, sync_playwright

# Playwright's sync API runs an asyncio event loop in the test's thread, and Django then
# refuses ORM calls there (SynchronousOnlyOperation) although nothing runs concurrently.
# This is the documented workaround for Playwright with pytest-django.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# The page reports CSP violations through this binding; the listener is added before any of
# the page's own code runs, and Playwright's init scripts are not subject to the page's CSP.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `(${event.sourceFile || document.location.href}:${event.lineNumber})`
  );
});
"""


def solid_png(size: int, rgb: tuple[int, int, int]) -> bytes:
    """A square PNG of one colour: what the map shows instead of real tiles."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


MAP_TILE = solid_png(256, (226, 230, 234))


def is_map_tile(url: str) -> bool:
    """Whether `url` is on the host of settings.MAP_TILE_URL ("{s}" is any subdomain)."""
    tile_host = urlsplit(settings.MAP_TILE_URL).netloc.replace("{s}", "*")
    return fnmatch(urlsplit(url).netloc, tile_host)


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian's chromium package to run these)"
        if on_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    # The folder shows the last run only.
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Visitor:
    """A browser tab on the live server that keeps what went wrong in it."""

    page: Page
    base_url: str
    problems: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # After a click the assertions pass as soon as the new page's text is there; wait for
        # its styles, scripts and map before measuring the full page.
        self.page.wait_for_load_state("load")
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def visitor(browser, live_server) -> Iterator[Visitor]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    problems: list[str] = []
    context.expose_function("reportCspViolation", lambda text: problems.append(f"CSP: {text}"))
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    # The tests never reach the internet. Map tiles, the one third-party request the pages
    # may make (DESIGN.md), get a plain grey tile; any other outside request is a problem.
    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith(live_server.url):
            route.continue_()
        elif is_map_tile(url):
            route.fulfill(status=200, content_type="image/png", body=MAP_TILE)
        else:
            problems.append(f"third-party request: {url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()

    def on_console(message) -> None:
        source = message.location.get("url", "")
        if message.type == "error":
            problems.append(f"console error on {page.url} ({source}): {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught on {page.url}: {error}"))
    try:
        yield Visitor(page=page, base_url=live_server.url, problems=problems)
    finally:
        context.close()
