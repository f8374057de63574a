"""`{% form_tokens %}`: what every form that posts carries, the CSRF token and (for a
logged-in user) a fresh idempotency key, so sending the same form twice (a double click, a
reload that sends again, two tabs) saves once (cabar_tracker/idempotency.py). Templates
write it where they would write `{% csrf_token %}`; tests/test_idempotency.py checks that
none writes the bare tag."""

from __future__ import annotations

import uuid

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import format_html

from cabar_tracker.idempotency import FORM_FIELD

register = template.Library()


@register.simple_tag(takes_context=True)
def form_tokens(context) -> str:
    csrf = CsrfTokenNode().render(context)
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        # Keys are per user: an anonymous form (the login, the language switch) needs
        # none, and the public pages stay the same bytes for every reader.
        return csrf
    key = format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4())
    return format_html("{}{}", csrf, key)
