"""One CSV writer for every CSV the site hands out (page exports and the API).

A text cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) is a
formula to a spreadsheet: a name entered as `=HYPERLINK("http://…","click")` would become a
link, or worse, in the journalist's copy ("CSV injection"). Such cells get a leading
apostrophe, which spreadsheets hide; numbers, dates and booleans are left as they are.
"""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
