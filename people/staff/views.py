"""Staff pages of the people app: add and edit a person (with name variants), and merge two
records of the same person."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from cabar_tracker.history import StaleVersionError
from cabar_tracker.parameters import MAX_DATABASE_INTEGER, integer_parameter, parse_integer
from cabar_tracker.staff.access import staff_required
from cabar_tracker.staff.editing import edit_record
from cabar_tracker.staff.history_views import history_url
from people.models import Person
from people.names import name_similarity
from people.staff.forms import PersonForm, PersonNameFormSet
from people.staff.merge import MERGE_PERMISSION, MergeRefused, merge_persons

# How many likely duplicates the merge page suggests.
SUGGESTIONS = 8
SUGGESTION_THRESHOLD = 0.6


@staff_required
@permission_required("people.add_person", raise_exception=True)
def person_add(request: HttpRequest) -> HttpResponse:
    return edit_record(
        request,
        form_class=PersonForm,
        formset_class=PersonNameFormSet,
        heading=gettext("New person"),
    )


@staff_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person._base_manager, pk=pk)
    return edit_record(
        request,
        form_class=PersonForm,
        formset_class=PersonNameFormSet,
        instance=person,
        heading=gettext("Edit person"),
    )


def _with_counts(queryset):
    """Persons with how much points at them: what a merge would move."""
    return queryset.annotate(
        detention_count=Count("detentions", distinct=True),
        statements_made_count=Count("statements_made", distinct=True),
        statements_about_count=Count("statements_about", distinct=True),
        variant_count=Count("name_variants", distinct=True),
        position_count=Count("positions", distinct=True),
        source_count=Count("sources", distinct=True),
    ).prefetch_related("name_variants")


def _suggestions(person: Person) -> list[Person]:
    """Persons whose name is close to this one's, in any script, best first."""
    candidates = Person.objects.not_archived().exclude(pk=person.pk).only("name", "name_native")
    scored = []
    for other in candidates:
        score = max(
            name_similarity(person.name, other.name),
            name_similarity(person.name_native or person.name, other.name_native or other.name),
        )
        if score >= SUGGESTION_THRESHOLD:
            scored.append((score, other))
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    return [other for _, other in scored[:SUGGESTIONS]]


@staff_required
@permission_required(MERGE_PERMISSION, raise_exception=True)
def person_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge a duplicate into this person: choose it, see both side by side, confirm."""
    keep = get_object_or_404(_with_counts(Person.objects.not_archived()), pk=pk)
    other_id = integer_parameter(request.POST if "merge" in request.POST else request.GET, "merge")
    other = None
    if other_id is not None and other_id != keep.pk:
        other = _with_counts(Person.objects.not_archived()).filter(pk=other_id).first()
    if request.method == "POST" and other is not None:
        try:
            merge_persons(
                keep=keep,
                merge=other,
                user=request.user,
                keep_version=_int(request.POST.get("keep_version")),
                merge_version=_int(request.POST.get("merge_version")),
            )
        except MergeRefused as refused:
            messages.error(request, str(refused))
        except StaleVersionError:
            messages.error(
                request,
                gettext(
                    "One of the two records changed while you were comparing them; nothing "
                    "was merged. Compare them again."
                ),
            )
        except ValidationError as error:
            messages.error(
                request,
                gettext("Nothing was merged: %(errors)s") % {"errors": " ".join(error.messages)},
            )
        else:
            messages.success(
                request,
                gettext("%(merged)s was merged into %(kept)s and archived.")
                % {"merged": other.name, "kept": keep.name},
            )
            return redirect(reverse("staff:person_edit", kwargs={"pk": keep.pk}))
        return redirect(f"{reverse('staff:person_merge', kwargs={'pk': keep.pk})}?merge={other.pk}")
    shared_incidents = []
    if other is not None:
        shared_incidents = list(
            keep.detentions.filter(incident__detentions__person=other)
            .select_related("incident")
            .distinct()
        )
    context = {
        "keep": keep,
        "other": other,
        "suggestions": _suggestions(keep) if other is None else [],
        "choices": Person.objects.not_archived()
        .exclude(pk=keep.pk)
        .only("name", "name_native", "citizenship", "identity_withheld"),
        "shared_incidents": shared_incidents,
        "keep_history_url": history_url(keep),
        "other_history_url": history_url(other) if other else None,
    }
    return render(request, "staff/merge.html", context)


def _int(value: str | None) -> int | None:
    return parse_integer(value or "", minimum=0, maximum=MAX_DATABASE_INTEGER)
