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

    Non-staff see a withheld person only as the neutral public label and an unpublished one
    as "A person not yet published" (`Person.name_for`), both without a link.
    """
    user = context["request"].user
    name = person.name_for(user)
    if not name_shown_to(person, user):
        return name
    if link and shown_to(person, user):
        name = format_html('<a href="{}">{}</a>', person.get_absolute_url(), name)
    if person.identity_withheld:
        # Only staff get here with a withheld person: remind them the name is not public.
        name = format_html(
            '{} <span class="badge badge-withheld">{}</span>', name, _("identity withheld")
        )
    return name


@register.simple_tag(takes_context=True)
def post_shown(context, statement):
    """The post a statement's speaker held, or None when the reader may not see the holder's
    name: "Head of …" names its holder as surely as the name does (a withheld identity, a
    person not yet published)."""
    position = statement.position
    if position is None:
        return None
    # The speaker is the post's holder (Statement.clean); the loaded speaker saves a query.
    if position.person_id == statement.speaker_person_id:
        holder = statement.speaker_person
    else:
        holder = position.person
    return position if name_shown_to(holder, context["request"].user) else None


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


@register.filter
def accounts_of(record, fact: str) -> list:
    """`{% with accounts=detention|accounts_of:"arrest_place" %}`: the record's accounts of a
    fact, preferred first, as `incidents.accounts.attach_accounts` set them (none if not)."""
    return getattr(record, "fact_accounts", {}).get(fact, [])


@register.filter
def has_other_accounts(accounts: list) -> bool:
    """Whether there is more to tell than the preferred value alone."""
    return any(account.rank != "preferred" for account in accounts)
