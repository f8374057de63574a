"""Capture a source's address: fetch it, keep it as a WARC file, render HTML in Chromium.

`request_capture()` is the one door (the staff "Archive now" and "Retry" buttons, the
source's creation, `manage.py capture_source`): it records a queued `Capture` and queues
`run_capture` on the job queue (django-tasks; settings.TASKS). The job:

1. fetches the address with the limits of the settings (CAPTURE_*): http and https only;
   every host, the first and each redirect's, is resolved and each of its addresses must be
   public (not private, loopback, link-local…), and the connection goes to the address that
   was checked, so a second lookup cannot point it elsewhere; at most CAPTURE_MAX_REDIRECTS
   redirects, CAPTURE_MAX_BYTES of body and CAPTURE_TIMEOUT_SECONDS in all;
2. writes a WARC file (warcio) with a warcinfo record and, for every hop, the request and
   the response (headers, body, the capture time, the server's address and the SHA-256
   of the payload in WARC-Payload-Digest);
3. for HTML, renders the page as received into a full-page PNG screenshot and a PDF in
   headless Chromium (Playwright), which may load the page's images and styles only from
   public addresses too.

A failure (refused address, timeout, 404, too large) is recorded with its reason. Files go
to the default storage (settings.STORAGES) under evidence/captures/<source>/<capture>/.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from evidence.models import Capture, CaptureStatus, capture_path
from incidents.models import Source

logger = logging.getLogger(__name__)

REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
# The arguments the browser tests use: no sandbox (root in a container), no GPU, and no
# traffic of Chromium's own (updates, sync, safe browsing).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class CaptureRefused(Exception):
    """The fetch was refused or failed; the message is the reason staff read."""


# --- the one door ----------------------------------------------------------------------------


def request_capture(*, source: Source, user=None) -> Capture:
    """Record a capture of the source's address and queue it for a worker. With the
    immediate backend (tests) it has run when this returns."""
    if not source.url:
        raise ValueError("A source without an address cannot be captured.")
    capture = Capture.objects.create(
        source=source,
        url=source.url,
        requested_by=user if user is not None and user.is_authenticated else None,
    )
    result = run_capture.enqueue(capture.pk)
    Capture.objects.filter(pk=capture.pk, task_id="").update(task_id=str(result.id)[:64])
    capture.refresh_from_db()
    return capture


def capture_on_creation(sender, instance: Source, created: bool, raw: bool = False, **kwargs):
    """A new source with an address is captured once the transaction that made it commits
    (evidence.apps connects this to Source's post_save, so every door is covered)."""
    if not created or raw or not instance.url or not settings.CAPTURE_ON_CREATE:
        return
    transaction.on_commit(lambda: request_capture(source=instance))


@task()
def run_capture(capture_id: int) -> str:
    """The job: fetch, store, render; the capture records the outcome."""
    capture = Capture.objects.get(pk=capture_id)
    if capture.status != CaptureStatus.QUEUED:
        return capture.status  # run already (a worker restarted after finishing it)
    _set(capture, status=CaptureStatus.RUNNING, started_at=timezone.now())
    try:
        perform_capture(capture)
    except CaptureRefused as refused:
        _set(capture, status=CaptureStatus.FAILED, reason=str(refused))
    except Exception:
        logger.exception("Capture %s stopped with an unexpected error", capture.pk)
        _set(
            capture,
            status=CaptureStatus.FAILED,
            reason=_("The capture stopped with an unexpected error (see the server's log)."),
        )
    finally:
        _set(capture, finished_at=timezone.now())
    return capture.status


def _set(capture: Capture, **values) -> None:
    for name, value in values.items():
        setattr(capture, name, value)
    Capture.objects.filter(pk=capture.pk).update(**values)


def perform_capture(capture: Capture) -> None:
    captured_at = timezone.now()
    hops = fetch(capture.url)
    final = hops[-1]
    payload_hash = hashlib.sha256(final.body).hexdigest()
    warc_bytes = write_warc(hops, captured_at=captured_at)
    values = {
        "http_status": final.status,
        "final_url": final.url[:2000],
        "content_type": final.header("Content-Type")[:255],
        "size": len(final.body),
        "sha256": payload_hash,
        "warc": _store(capture, "capture.warc.gz", warc_bytes),
        "warc_sha256": hashlib.sha256(warc_bytes).hexdigest(),
    }
    if final.is_html:
        png, pdf, note = render(final)
        if png:
            values["screenshot"] = _store(capture, "screenshot.png", png)
            values["screenshot_sha256"] = hashlib.sha256(png).hexdigest()
        if pdf:
            values["pdf"] = _store(capture, "page.pdf", pdf)
            values["pdf_sha256"] = hashlib.sha256(pdf).hexdigest()
        values["render_note"] = note
    if final.status >= 400:
        # The answer is kept (a page that is gone is a fact too), but it is not a capture of
        # the source's content.
        values["status"] = CaptureStatus.FAILED
        values["reason"] = _("The server answered %(status)s %(reason)s.") % {
            "status": final.status,
            "reason": final.reason,
        }
    else:
        values["status"] = CaptureStatus.DONE
    _set(capture, **values)


def _store(capture: Capture, name: str, content: bytes) -> str:
    return default_storage.save(capture_path(capture, name), ContentFile(content))


# --- fetching --------------------------------------------------------------------------------


@dataclass
class Hop:
    """One request and its response."""

    url: str
    address: str
    request_line: str
    request_headers: list[tuple[str, str]]
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    @property
    def is_html(self) -> bool:
        return self.header("Content-Type").split(";")[0].strip().lower() in HTML_TYPES


def address_allowed(address: str) -> bool:
    """Whether a fetch may connect to this IP address: a global (public) unicast one, or
    any with CAPTURE_ALLOW_PRIVATE_ADDRESSES (tests)."""
    if settings.CAPTURE_ALLOW_PRIVATE_ADDRESSES:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def checked_address(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) of a URL that may be fetched; else
    `CaptureRefused` saying why."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CaptureRefused(_("The address is not a valid URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise CaptureRefused(
            _("Only http and https addresses are captured, not “%(scheme)s:”.") % {"scheme": scheme}
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise CaptureRefused(_("The address names no host."))
    allowed_hosts = settings.CAPTURE_ALLOWED_HOSTS
    if allowed_hosts and not any(host == h or host.endswith("." + h) for h in allowed_hosts):
        raise CaptureRefused(
            _("The host %(host)s is not in the hosts captures may fetch (CAPTURE_ALLOWED_HOSTS).")
            % {"host": host}
        )
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise CaptureRefused(_("The host %(host)s was not found.") % {"host": host}) from None
    addresses = [info[4][0] for info in infos]
    # Every address the name has must be allowed: a name with one public and one private
    # address could otherwise be used to reach the private one.
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise CaptureRefused(
            _(
                "The host %(host)s has a private or local address (%(address)s): captures "
                "fetch public addresses only."
            )
            % {"host": host, "address": refused[0] if refused else "-"}
        )
    return scheme, host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        # The certificate is checked against the host name, as a browser would.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def fetch(url: str) -> list[Hop]:
    """GET `url`, following redirects within the limits; every hop, the last one the answer.
    Raises `CaptureRefused` with the reason when the fetch is refused or fails."""
    timeout = settings.CAPTURE_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    hops: list[Hop] = []
    while True:
        hop = _fetch_one(url, deadline=deadline, timeout=timeout)
        hops.append(hop)
        location = hop.header("Location")
        if hop.status not in REDIRECTS or not location:
            return hops
        if len(hops) > settings.CAPTURE_MAX_REDIRECTS:
            raise CaptureRefused(
                _("More than %(count)s redirects.") % {"count": settings.CAPTURE_MAX_REDIRECTS}
            )
        url = urljoin(url, location)


def _fetch_one(url: str, *, deadline: float, timeout: int) -> Hop:
    scheme, host, port, address = checked_address(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = port == (443 if scheme == "https" else 80)
    headers = [
        ("Host", host if default_port else f"{host}:{port}"),
        ("User-Agent", settings.CAPTURE_USER_AGENT),
        ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
        # The payload as the server holds it, so its hash is the body's.
        ("Accept-Encoding", "identity"),
        ("Connection", "close"),
    ]
    hop = Hop(
        url=url,
        address=address,
        request_line=f"GET {target} HTTP/1.1",
        request_headers=headers,
    )
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    max_bytes = settings.CAPTURE_MAX_BYTES
    try:
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        hop.status, hop.reason = response.status, response.reason
        hop.headers = list(response.getheaders())
        declared = hop.header("Content-Length")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(max_bytes)
        body = bytearray()
        while chunk := response.read(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(max_bytes)
            if time.monotonic() > deadline:
                raise _timed_out(timeout)
        hop.body = bytes(body)
    except TimeoutError:
        raise _timed_out(timeout) from None
    except ssl.SSLError as error:
        raise CaptureRefused(
            _("The secure connection failed: %(error)s") % {"error": error.reason or error}
        ) from None
    except ConnectionRefusedError:
        raise CaptureRefused(_("The server refused the connection.")) from None
    except (OSError, http.client.HTTPException) as error:
        raise CaptureRefused(
            _("The connection failed: %(error)s") % {"error": type(error).__name__}
        ) from None
    finally:
        connection.close()
    if time.monotonic() > deadline:
        raise _timed_out(timeout)
    return hop


def _too_large(max_bytes: int) -> CaptureRefused:
    return CaptureRefused(
        _("The answer is larger than the limit of %(size)s bytes (CAPTURE_MAX_BYTES).")
        % {"size": max_bytes}
    )


def _timed_out(timeout: int) -> CaptureRefused:
    return CaptureRefused(
        _("No complete answer within %(seconds)s seconds (CAPTURE_TIMEOUT_SECONDS).")
        % {"seconds": timeout}
    )


# --- the WARC file ---------------------------------------------------------------------------


def sha256_label(data: bytes) -> str:
    """A WARC digest label: the algorithm, a colon, the digest in base32 (as warcio writes
    its SHA-1 digests)."""
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


def write_warc(hops: list[Hop], *, captured_at) -> bytes:
    """A gzipped WARC 1.1 file: a warcinfo record, then the request and response of every
    hop. The payload's SHA-256 is in each response's WARC-Payload-Digest."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    output = io.BytesIO()
    writer = WARCWriter(output, gzip=True, warc_version="1.1")
    warc_date = captured_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    writer.write_record(
        writer.create_warcinfo_record(
            "capture.warc.gz",
            {
                "software": "Detention case tracker (evidence.capture), warcio",
                "format": "WARC File Format 1.1",
                "http-header-user-agent": settings.CAPTURE_USER_AGENT,
            },
        )
    )
    for hop in hops:
        request = writer.create_warc_record(
            hop.url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(
                hop.request_line, hop.request_headers, is_http_request=True
            ),
            warc_headers_dict={"WARC-Date": warc_date},
        )
        # The body was read whole (chunks joined): the headers must say so, or a reader
        # would look for chunk sizes in it. The server's value is kept under another name.
        headers = [
            (f"X-Archive-Orig-{name}", value)
            if name.lower() == "transfer-encoding"
            else (name, value)
            for name, value in hop.headers
        ]
        response = writer.create_warc_record(
            hop.url,
            "response",
            payload=io.BytesIO(hop.body),
            # A known length keeps the SHA-256 payload digest set below (warcio recomputes
            # digests, as SHA-1, for a record of unknown length).
            length=len(hop.body),
            http_headers=StatusAndHeaders(
                f"{hop.status} {hop.reason}", headers, protocol="HTTP/1.1"
            ),
            warc_headers_dict={
                "WARC-Date": warc_date,
                "WARC-IP-Address": hop.address,
                "WARC-Payload-Digest": sha256_label(hop.body),
                "WARC-Concurrent-To": request.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(request)
        writer.write_record(response)
    return output.getvalue()


# --- rendering -------------------------------------------------------------------------------


def render(hop: Hop) -> tuple[bytes | None, bytes | None, str]:
    """(PNG, PDF, note) of an HTML answer, rendered from the bytes received (not fetched
    again). The page's images, styles and scripts are loaded only from public addresses
    (the same check as the fetch's). No screenshot and a note saying why when rendering is
    off, Chromium or Playwright is missing, or the rendering fails."""
    if not settings.CAPTURE_RENDER:
        return None, None, _("Rendering is turned off (CAPTURE_RENDER).")
    chromium = Path(settings.CAPTURE_CHROMIUM)
    if not chromium.exists():
        return (
            None,
            None,
            _("No screenshot or PDF: Chromium is not installed at %(path)s.") % {"path": chromium},
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, None, _("No screenshot or PDF: Playwright is not installed.")

    timeout_ms = settings.CAPTURE_TIMEOUT_SECONDS * 1000
    content_type = hop.header("Content-Type") or "text/html"

    served = []

    def route(route) -> None:
        url = route.request.url
        if not served and route.request.is_navigation_request():
            # The page itself: the bytes that were captured and hashed.
            served.append(url)
            route.fulfill(status=200, body=hop.body, headers={"Content-Type": content_type})
            return
        try:
            checked_address(url)
        except CaptureRefused:
            route.abort()
            return
        route.continue_()

    # No ORM call inside: Playwright's sync API runs an event loop in this thread, in which
    # Django refuses database access.
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900},
                    service_workers="block",
                    accept_downloads=False,
                )
                context.route("**/*", route)
                page = context.new_page()
                page.set_default_timeout(timeout_ms)
                page.goto(hop.url, wait_until="domcontentloaded", timeout=timeout_ms)
                note = ""
                try:
                    page.wait_for_load_state("load", timeout=timeout_ms)
                except PlaywrightError:
                    note = _("The page's images or styles did not all load in time.")
                png = page.screenshot(full_page=True, type="png")
                pdf = page.pdf(print_background=True)
            finally:
                browser.close()
    except PlaywrightError as error:
        logger.warning("Rendering %s failed: %s", hop.url, error)
        return (
            None,
            None,
            _("No screenshot or PDF: the rendering failed (%(error)s).")
            % {"error": str(error).splitlines()[0][:200]},
        )
    return png, pdf, note
