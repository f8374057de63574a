"""Query parameters a page or an export does not know (`?palce=almaty`).

A misspelt filter would otherwise be dropped without a word and the whole list shown as if
it were filtered: a silently wrong answer. The API refuses such a request with a 400
naming the parameter (cabar_tracker.api.viewsets); a page still renders, since a reader
followed a link, but says which parameters it ignored (base.html shows the note); an
export or a feed, which a reader or a script saves without looking, refuses it like an
invalid filter. Shared by both apps' public pages.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponseBadRequest
from django.utils.translation import gettext, ngettext

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
