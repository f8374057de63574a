"""Parameters a view reads from a query string by hand: names it does not know, and
numbers. Both answer a bad request with a clear message, never silently and never a 500.

Query parameters a page or an export does not know (`?palce=almaty`).

A misspelt filter would otherwise be dropped without a word and the whole list shown as if
it were filtered: a silently wrong answer. The API refuses such a request with a 400
naming the parameter (cabar_tracker.api.viewsets); a page still renders, since a reader
followed a link, but says which parameters it ignored (base.html shows the note); an
export or a feed, which a reader or a script saves without looking, refuses it like an
invalid filter. Shared by both apps' public pages.

Numbers read by hand from a query string or a form: refused with a 400 that names the
parameter, never a 500.

`str.isdigit()` accepts digits `int()` refuses ("²") and `int()` accepts digits in other
scripts ("٣") and numbers no database column holds (2**63): either was a server error once.
A view that reads a number itself calls `integer_parameter` or `id_parameters`; a bad value
raises `BadParameter`, which `BadParameterMiddleware` answers with a 400 page (JSON under
the API) saying which parameter was wrong and why.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from django.http import HttpRequest, HttpResponseBadRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _

# What any page may carry: a page number of its lists.
PAGE = "page"


def unknown_parameters(request: HttpRequest, known: Iterable[str]) -> list[str]:
    return sorted(set(request.GET) - set(known))


def note_ignored_parameters(request: HttpRequest, known: Iterable[str]) -> list[str]:
    """Remember, for the page's note, the parameters of this request not in `known`."""
    unknown = unknown_parameters(request, known)
    if unknown:
        names = ", ".join(f"“{name}”" for name in unknown)
        request.ignored_parameters_note = ngettext(
            "This page does not know the parameter %(names)s and ignored it; check the "
            "address for a misspelt filter.",
            "This page does not know the parameters %(names)s and ignored them; check the "
            "address for a misspelt filter.",
            len(unknown),
        ) % {"names": names}
    return unknown


def takes_parameters(*known: str):
    """Decorate a page view that takes only the parameters `known` (none by default)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            note_ignored_parameters(request, known)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def refuse_unknown_parameters(
    request: HttpRequest, known: Iterable[str]
) -> HttpResponseBadRequest | None:
    """A 400 naming the unknown parameters of an export or a feed, or None."""
    unknown = unknown_parameters(request, known)
    if not unknown:
        return None
    return HttpResponseBadRequest(
        gettext("Unknown parameter: %(names)s. This address takes: %(known)s.")
        % {"names": ", ".join(unknown), "known": ", ".join(sorted(known))},
        content_type="text/plain; charset=utf-8",
    )


# The largest key or number a query string may give: PostgreSQL's bigint and SQLite's
# INTEGER are signed 64-bit.
MAX_DATABASE_INTEGER = 2**63 - 1
# Pages of a list numbered past this are refused: no list here is a million pages long.
MAX_PAGE = 1_000_000


class BadParameter(ValueError):
    """A query-string or form parameter that cannot be used, with a message for the reader."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def parse_integer(text: str, *, minimum: int, maximum: int) -> int | None:
    """`text` as an integer from `minimum` to `maximum`, or None: ASCII digits only (a
    leading minus when `minimum` is negative), at most as long as `maximum`."""
    text = text.strip()
    digits = text[1:] if text.startswith("-") and minimum < 0 else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(maximum)):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def integer_parameter(
    data: Mapping,
    name: str,
    *,
    default: int | None = None,
    minimum: int = 0,
    maximum: int = MAX_DATABASE_INTEGER,
) -> int | None:
    """The integer in `data[name]` (a QueryDict or POST), `default` when it is absent or
    empty; a value that is not a whole number in the range raises `BadParameter`."""
    text = data.get(name)
    if text is None or not str(text).strip():
        return default
    value = parse_integer(str(text), minimum=minimum, maximum=maximum)
    if value is None:
        raise BadParameter(
            name,
            _("Enter a whole number from %(minimum)d to %(maximum)d.")
            % {"minimum": minimum, "maximum": maximum},
        )
    return value


def page_parameter(data: Mapping, name: str = "page") -> int:
    """A page number (1 when absent); refused past `MAX_PAGE`."""
    return integer_parameter(data, name, default=1, minimum=1, maximum=MAX_PAGE)


def id_parameters(data, name: str) -> list[int]:
    """Every key given as `name` (it may repeat): each must be a key the database could
    hold."""
    ids = []
    for text in data.getlist(name):
        if not text.strip():
            continue
        value = parse_integer(text, minimum=1, maximum=MAX_DATABASE_INTEGER)
        if value is None:
            raise BadParameter(name, _("Give the number of a record."))
        ids.append(value)
    return ids
