"""One CSV writer for every CSV the site hands out (page exports and the API), and the
download that carries it: name, byte order mark, blocks.

A text cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) is a
formula to a spreadsheet: a name entered as `=HYPERLINK("http://…","click")` would become a
link, or worse, in the journalist's copy ("CSV injection"). Such cells get a leading
apostrophe, which spreadsheets hide; numbers, dates and booleans are left as they are.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal
from urllib.parse import quote

from django.http import QueryDict, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from people.names import transliterate

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# The UTF-8 byte order mark: Excel reads a CSV as UTF-8 only when it starts with one (and
# as the machine's legacy code page otherwise, which garbles Cyrillic). Other readers (pandas,
# LibreOffice, Python's csv with encoding="utf-8-sig") skip it; some would keep it in the
# first column's name, so it is asked for, with `?bom=1`, not sent by default.
BOM = "\ufeff"
BOM_PARAMETER = "bom"


def neutralized(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value, *, separator: str = "; ") -> str:
    """A value as a CSV cell: empty for None, true/false, a list joined by `separator`,
    and text neutralized."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal | datetime.date):
        return str(value)
    if isinstance(value, list | tuple):
        return neutralized(separator.join("" if item is None else str(item) for item in value))
    return neutralized(str(value))


class _Echo:
    """A file-like object whose write() returns the line, so the writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def line_writer():
    """A csv writer whose writerow() returns the line (RFC 4180 line ends), for streaming.
    Give it cells made by `cell()`."""
    return csv.writer(_Echo(), lineterminator="\r\n")


def bom_requested(raw: str | None) -> bool:
    """`?bom=1` (or true, yes) asks for a byte order mark; absent, empty, 0, false or no do
    not. Anything else is a ValueError, for a 400 naming the parameter."""
    value = (raw or "").strip().lower()
    if value in {"1", "true", "yes"}:
        return True
    if value in {"", "0", "false", "no"}:
        return False
    raise ValueError(value)


# Lines are sent in blocks of about this many characters: a write to the socket per line
# cost a fifth of a 10,000-row export through gunicorn.
BLOCK_SIZE = 64 * 1024


def in_blocks(lines: Iterable[str], size: int = BLOCK_SIZE) -> Iterator[str]:
    """The lines joined into blocks of at least `size` characters (the last may be less)."""
    block: list[str] = []
    length = 0
    for line in lines:
        block.append(line)
        length += len(line)
        if length >= size:
            yield "".join(block)
            block, length = [], 0
    if block:
        yield "".join(block)


# Query parameters that say how to deliver a file, not which rows: not in its name.
NOT_A_FILTER = frozenset({"format", "bom", "stream", "cursor", "page_size", "count", "page"})
# The filter part of a file name is cut at this many characters (a long search or many
# places); the date and extension always follow.
MAX_FILTER_NAME = 100


def _filter_words(query: QueryDict, *, ascii_only: bool) -> str:
    words = []
    for name, value in ((name, v) for name, values in query.lists() for v in values):
        if name in NOT_A_FILTER or not value.strip():
            continue
        if ascii_only:
            value = transliterate(value)
        word = slugify(f"{name} {value}", allow_unicode=not ascii_only)
        if word:
            words.append(word)
    joined = "-".join(words)
    return joined[:MAX_FILTER_NAME].rstrip("-_")


def download_filename(
    resource: str,
    query: QueryDict,
    extension: str,
    *,
    ascii_only: bool = True,
    day: datetime.date | None = None,
) -> str:
    """`detentions-place-almaty-kind-detention-2024-05-01.csv`: what the file holds, the
    filter that selected it (in the order given) and the day it was made (today unless
    `day` says, as for a file an export job made earlier), so copies are told apart. ASCII
    (a Cyrillic search is transliterated) unless `ascii_only` is off."""
    words = _filter_words(query, ascii_only=ascii_only)
    made_on = (day or timezone.localdate()).isoformat()
    return "-".join(part for part in (resource, words, made_on) if part) + f".{extension}"


def content_disposition(
    resource: str, query: QueryDict, extension: str, *, day: datetime.date | None = None
) -> str:
    """`attachment` with the name as ASCII (`filename`, for every client) and as UTF-8
    (`filename*`, RFC 6266 and 5987, which browsers prefer): a search for "Рузахунов" is
    `q-ruzakhunov` in one and `q-рузахунов` in the other."""
    plain = download_filename(resource, query, extension, day=day)
    utf8 = download_filename(resource, query, extension, ascii_only=False, day=day)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(utf8, safe='')}"


def csv_download(lines: Iterable[str], *, resource: str, query: QueryDict) -> StreamingHttpResponse:
    """A CSV streamed in blocks, named for what it holds."""
    response = StreamingHttpResponse(in_blocks(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(resource, query, "csv")
    return response
