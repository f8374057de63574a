"""Atom feed of newly published and updated cases, for any view of the case list.

`/incidents/feed.atom` takes the same query string as `/incidents/` (the list links to the
feed of its current filter), so a journalist can follow "detentions of citizens of
Kyrgyzstan in Shymkent" in a feed reader. Entries are the 50 most recently updated
incidents of the filter. A feed is public whoever fetches it: it is made to be passed on and
its entries do not say which are drafts, so it holds published cases only, as an anonymous
reader sees them, even for staff logged in to the site in the same browser.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from cabar_tracker.parameters import refuse_unknown_parameters
from incidents.filters import IncidentFilter
from incidents.models import Incident
from incidents.public.facets import clean_query, describe_filters, filtered_incidents, title_for
from incidents.public.list_views import feed_query_string, filter_errors

FEED_LENGTH = 50


def entry_id(incident: Incident) -> str:
    """A feed entry's permanent id (see `IncidentFeed.item_guid`). The feed holds published
    incidents only, so `published_at` is set; the creation date stands in otherwise."""
    first = incident.published_at or incident.created_at
    return f"tag:{settings.FEED_ID_AUTHORITY},{first.date().isoformat()}:incident/{incident.pk}"


def public_filterset(request: HttpRequest) -> IncidentFilter:
    """The list's filters over published incidents, applied as for an anonymous reader (so
    a draft detention or situation cannot make an incident match either), validated."""
    anonymous = SimpleNamespace(user=AnonymousUser(), GET=request.GET)
    filterset = IncidentFilter(
        request.GET, queryset=Incident.objects.published(), request=anonymous
    )
    filterset.is_valid()
    return filterset


def _feed_query(filterset: IncidentFilter) -> str:
    return feed_query_string(clean_query(filterset.data, filterset))


class IncidentFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        filterset = public_filterset(request)
        refused = refuse_unknown_parameters(request, filterset.filters)
        if refused is not None:
            return refused
        if filterset.form.errors:
            # A feed reader shows no page: say plainly which parameter is wrong.
            return HttpResponseBadRequest(
                "\n".join(filter_errors(filterset)), content_type="text/plain; charset=utf-8"
            )
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request: HttpRequest, *args, **kwargs) -> IncidentFilter:
        # Validated again (two small queries at most): Feed.__call__ passes nothing along.
        return public_filterset(request)

    def title(self, filterset: IncidentFilter) -> str:
        query = clean_query(filterset.data, filterset)
        return title_for(describe_filters(filterset, query))

    def subtitle(self, filterset: IncidentFilter) -> str:
        return _("Newly published and updated detention cases, most recent first.")

    def link(self, filterset: IncidentFilter) -> str:
        return reverse("incidents:incident_list") + _feed_query(filterset)

    def feed_url(self, filterset: IncidentFilter) -> str:
        return reverse("incidents:incident_feed") + _feed_query(filterset)

    def author_name(self) -> str:
        # Atom requires an author for the feed or for every entry.
        return _("Detention case tracker")

    def items(self, filterset: IncidentFilter):
        return filtered_incidents(filterset).order_by("-updated_at", "-pk")[:FEED_LENGTH]

    def item_title(self, incident: Incident) -> str:
        # An Atom title is plain text (the generator escapes it for XML), so no HTML escaping.
        return incident.title

    def item_description(self, incident: Incident) -> str:
        # Atom summaries are written as type="html": escape the plain-text summary.
        return escape(incident.summary)

    def item_guid(self, incident: Incident) -> str:
        """The entry's Atom id, which never changes: not the case's address (a corrected
        slug would make every reader show the case again as new) but a tag URI of its key
        and first publication date (RFC 4151), `tag:<FEED_ID_AUTHORITY>,<date>:incident/<pk>`."""
        return entry_id(incident)

    item_guid_is_permalink = False

    def item_pubdate(self, incident: Incident):
        return incident.published_at

    def item_updateddate(self, incident: Incident):
        return incident.updated_at

    def item_categories(self, incident: Incident) -> list[str]:
        return [str(incident.get_kind_display())]
