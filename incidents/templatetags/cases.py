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

register = template.Library()


@register.filter
def can_see_unpublished(user) -> bool:
    """`{% if request.user|can_see_unpublished %}`: staff see drafts and staff-only fields."""
    return _can_see_unpublished(user)


@register.filter
def shown_to(record, user) -> bool:
    """Whether a publishable record reached through a relation may be linked for this user.

    The same rule as `visible_to(user)`, applied to a row already loaded: staff see anything
    not archived, everyone else only published records. Records that are not publishable
    (places, organizations) are always shown.
    """
    if record is None:
        return False
    if not hasattr(record, "publication_state"):
        return True
    if _can_see_unpublished(user):
        return record.archived_at is None
    return record.is_published


@register.filter
def name_shown_to(person, user) -> bool:
    """Whether this person's real name (and so any name variant of theirs) may be shown."""
    if _can_see_unpublished(user):
        return True
    return shown_to(person, user) and not person.identity_withheld


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
    `incidents.views.attach_place_labels`), otherwise just its name."""
    return getattr(location, "place_label", None) or location.name


@register.filter
def external_url(url: str) -> str:
    """The URL if it is http(s), else "": a stored `javascript:` URL (possible through a
    direct database write, which skips the URLField validator) must never become a link."""
    if url and urlsplit(url).scheme.lower() in {"http", "https"}:
        return url
    return ""
