"""Who may do what through the API: the one place the role rules live.

Reading is open to everyone; what each reader sees is decided by the querysets
(`visible_to(user)`) and the serializers (staff-only fields, withheld identities), not here.

Writing:

- create, edit and archive: active staff (`can_see_unpublished`) who are superusers or hold
  the model's "<app>.change_<model>" permission (the editor role has it);
- publish or unpublish (set `publication_state` to or from "published", or archive a
  published record): the `incidents.publish_record` permission (the reviewer and admin
  roles, cabar_tracker/roles.py; superusers have every permission).

A change to these rules is a change to this class only.
"""

from __future__ import annotations

from django.db import models
from rest_framework.permissions import SAFE_METHODS, BasePermission

from cabar_tracker.publishing import can_see_unpublished, may_publish

# The reviewers' permission (cabar_tracker/roles.py).


class RecordAccess(BasePermission):
    """Read for everyone (querysets filter what), write for staff with the change permission."""

    message = "Writing needs a staff account with permission to change these records."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        model = getattr(view, "queryset", None)
        model = model.model if model is not None else None
        return model is not None and self.may_write(request.user, model)

    @staticmethod
    def may_write(user, model: type[models.Model]) -> bool:
        if not can_see_unpublished(user):
            return False
        if user.is_superuser:
            return True
        opts = model._meta
        return user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @staticmethod
    def may_publish(user) -> bool:
        return can_see_unpublished(user) and may_publish(user)

    @classmethod
    def may_change_publication(cls, user, *, was_published: bool, will_be_published: bool) -> bool:
        """Any change of what the public sees (publish, unpublish, archive a published record)
        is a publishing decision; other edits are not."""
        if was_published == will_be_published:
            return True
        return cls.may_publish(user)
