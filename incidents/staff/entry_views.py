"""Staff pages for entering detentions: the one-sitting "New detention" page and the
as-you-type search for people already recorded (the duplicate-person warning's JSON)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cabar_tracker.parameters import parse_integer
from cabar_tracker.staff.access import staff_required
from incidents.staff.entry import EntryChoices, EntryInvalid, EntryPage, enter_detention
from people.staff.duplicates import Candidate, find_person_candidates

# The buttons that add empty rows without JavaScript (entry.js adds them in place).
ADD_ROWS = {"add_people": "people", "add_sources": "sources"}


@staff_required
@permission_required("incidents.add_detention", raise_exception=True)
@require_http_methods(["GET", "POST"])
def new_detention(request: HttpRequest) -> HttpResponse:
    choices = EntryChoices.load()
    if request.method == "GET":
        # "?incident=<slug>" preselects an incident, for a link from its page.
        initial = next(
            (i for i in choices.incidents if i.slug == request.GET.get("incident")), None
        )
        page = EntryPage(user=request.user, choices=choices, initial_incident=initial)
        return _render(request, page)

    rows = next((ADD_ROWS[name] for name in ADD_ROWS if name in request.POST), None)
    if rows is not None:
        page = EntryPage.with_more_rows(request.POST, rows=rows, user=request.user, choices=choices)
        return _render(request, page)

    page = EntryPage(request.POST, user=request.user, choices=choices)
    if page.is_valid():
        try:
            incident = enter_detention(user=request.user, **page.arguments())
        except EntryInvalid as invalid:
            page.record_errors(invalid.errors)
        else:
            messages.success(
                request,
                _("Saved as a draft: %(title)s. A reviewer publishes it.")
                % {"title": incident.title},
            )
            for source in page.known_sources():
                messages.info(
                    request,
                    _("Cited the source already recorded at this address: %(title)s.")
                    % {"title": source.title},
                )
            return redirect(incident)
    return _render(request, page)


def _render(request: HttpRequest, page: EntryPage) -> HttpResponse:
    context = {"page": page, "errors": page.error_summary()}
    return render(request, "staff/new_detention.html", context)


@staff_required
@require_GET
def person_candidates(request: HttpRequest) -> JsonResponse:
    """People already recorded whose names match ?name= closely, best first, for the
    duplicate warning as an editor types. ?citizenship= and ?birth_year= rank namesakes."""
    name = request.GET.get("name", "").strip()[:200]
    birth_year = request.GET.get("birth_year", "")
    candidates = find_person_candidates(
        name,
        citizenship=request.GET.get("citizenship", "").upper() or None,
        # A hint typed as the editor goes: anything but a year is no hint.
        birth_year=parse_integer(birth_year, minimum=1, maximum=9999),
        user=request.user,
    )
    return JsonResponse({"name": name, "candidates": [_as_json(c) for c in candidates]})


def _as_json(candidate: Candidate) -> dict:
    person = candidate.person
    return {
        "slug": person.slug,
        "name": person.name,
        "name_native": person.name_native,
        "citizenship": person.citizenship.code or "",
        "citizenship_name": str(person.citizenship.name or ""),
        "birth_year": person.birth_year,
        "occupation": person.occupation,
        "publication_state": person.publication_state,
        "publication_state_label": str(person.get_publication_state_display()),
        "identity_withheld": person.identity_withheld,
        "url": person.get_absolute_url(),
        "score": candidate.score,
        "name_score": candidate.name_score,
        "is_close": candidate.is_close,
        "detentions": [
            {
                "incident": detention.incident.title,
                "incident_url": detention.incident.get_absolute_url(),
                "detained": str(detention.detained or ""),
            }
            for detention in candidate.detentions
        ],
    }
