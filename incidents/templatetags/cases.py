"""Template helpers that apply the visibility rules while rendering.

Templates must not decide on their own whether a name may be shown: a person reached through
a relation (a speaker, whoever made an allegation, the holder of a post) may be withheld or
unpublished, and `person_name` is the one place that decides how they appear.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from cabar_tracker.publishing import can_see_unpublished as _can_see_unpublished
from cabar_tracker.publishing import name_shown_to, shown_to

register = template.Library()


@register.filter
def can_see_unpublished(user) -> bool:
    """`{% if request.user|can_see_unpublished %}`: staff see drafts and staff-only fields."""
    return _can_see_unpublished(user)


# The visibility rules themselves live with the publication states; templates use them as
# filters: `{% if speaker|shown_to:request.user %}`.
register.filter("shown_to", shown_to)
register.filter("name_shown_to", name_shown_to)


@register.simple_tag(takes_context=True)
def person_name(context, person, link: bool = True) -> str:
    """The person's name as this viewer may see it, linked to their page when allowed.

    Non-staff see a withheld or unpublished person only as the neutral public label, and
    without a link: the page's address holds the slug, which is usually made from the name.
    """
    user = context["request"].user
    if not name_shown_to(person, user):
        return person.public_label
    name = person.display_name(for_staff=_can_see_unpublished(user))
    if link and shown_to(person, user):
        name = format_html('<a href="{}">{}</a>', person.get_absolute_url(), name)
    if person.identity_withheld:
        # Only staff get here with a withheld person: remind them the name is not public.
        name = format_html(
            '{} <span class="badge badge-withheld">{}</span>', name, _("identity withheld")
        )
    return name


@register.filter
def place(location) -> str:
    """The place with its ancestors when the view attached them (see
    `incidents.public.views.attach_place_labels`), otherwise just its name."""
    return getattr(location, "place_label", None) or location.name


@register.filter
def external_url(url: str) -> str:
    """The URL if it is http(s), else "": a stored `javascript:` URL (possible through a
    direct database write, which skips the URLField validator) must never become a link."""
    if url and urlsplit(url).scheme.lower() in {"http", "https"}:
        return url
    return ""
