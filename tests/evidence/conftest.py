"""A local web server for the captures to fetch (http.server in a thread on 127.0.0.1), and
the settings that let a capture reach it."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAGE = (
    b"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Detained pianist"
    b"</title><style>body{font:18px sans-serif;background:#fdf6e3;margin:2em}"
    b"h1{color:#b58900}</style></head><body><h1>Jazz pianist detained in Almaty</h1>"
    b"<p>A local test page for the evidence capture: this paragraph is what the WARC, the "
    b"screenshot and the PDF must hold.</p><img src='/pixel.png' alt=''></body></html>"
)
# A minimal PDF (one empty page): what a capture of a PDF keeps byte for byte.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PIXEL = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
BIG = b"x" * 5000
SLOW_SECONDS = 3


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str, *, length: bool = True, **headers):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path
        if path == "/page.html":
            self._send(200, PAGE, "text/html; charset=utf-8")
        elif path == "/pixel.png":
            self._send(200, PIXEL, "image/png")
        elif path == "/doc.pdf":
            self._send(200, PDF, "application/pdf")
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            self._send(200, b"late", "text/plain")
        elif path == "/big":
            # No Content-Length: the limit must hold while reading, not only on the header.
            self._send(200, BIG, "application/octet-stream", length=False)
        elif path == "/big-declared":
            self._send(200, BIG, "application/octet-stream")
        elif path == "/to-page":
            self._send(302, b"", "text/plain", Location="/page.html")
        elif path == "/to-metadata":
            self._send(302, b"", "text/plain", Location="http://169.254.169.254/latest/meta-data/")
        else:
            self._send(404, b"<h1>Not found</h1>", "text/html")


@pytest.fixture(scope="session")
def web_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def capture_settings(settings):
    settings.CAPTURE_ALLOW_PRIVATE_ADDRESSES = True
    settings.CAPTURE_RENDER = False
    settings.CAPTURE_TIMEOUT_SECONDS = 2
    settings.CAPTURE_MAX_BYTES = 4000
    settings.CAPTURE_MAX_REDIRECTS = 3
    settings.CAPTURE_ALLOWED_HOSTS = []
    return settings
