"""Role changes: who gave or took which role, from every door, in the security log; and a
fresh confirmation of identity before one (accounts/reauth.py).

Roles are groups (cabar_tracker/roles.py) plus the superuser, staff and active flags. The
admin's account form, `manage.py create_staff_user` and anything else that changes them goes
through these signals. Commands (no request) are the operator's and are not asked to confirm.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext

from accounts import reauth, security_log

User = get_user_model()
ROLE_FLAGS = ("is_superuser", "is_staff", "is_active")


def _account(user) -> dict:
    return {"model": user._meta.label_lower, "id": user.pk}


@receiver(pre_save, sender=User, dispatch_uid="role_flags_before")
def _remember_flags(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._role_flags_before = None
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(ROLE_FLAGS):
        return  # e.g. last_login at every login
    stored = User._base_manager.filter(pk=instance.pk).values(*ROLE_FLAGS).first()
    if stored is None:
        return
    changed = {f: getattr(instance, f) for f in ROLE_FLAGS if stored[f] != getattr(instance, f)}
    if changed:
        reauth.require_recent(gettext("change roles"))
        instance._role_flags_before = changed


@receiver(post_save, sender=User, dispatch_uid="role_flags_after")
def _log_flags(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    changed = getattr(instance, "_role_flags_before", None)
    if created:
        changed = {f: getattr(instance, f) for f in ROLE_FLAGS if getattr(instance, f)}
        changed = changed or None
    if changed:
        security_log.record("role.changed", target=_account(instance), created=created, set=changed)
    instance._role_flags_before = None


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="role_groups")
def _groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action in ("pre_add", "pre_remove", "pre_clear"):
        reauth.require_recent(gettext("change roles"))
        if action == "pre_clear":
            # What a clear removes is gone by post_clear: note it now.
            if reverse:
                instance._roles_cleared = list(instance.user_set.values_list("pk", flat=True))
            else:
                instance._roles_cleared = list(instance.groups.values_list("name", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pks_or_names = getattr(instance, "_roles_cleared", [])
        if not pks_or_names:
            return
    elif not pk_set:
        return
    how = {"post_add": "added", "post_remove": "removed", "post_clear": "removed"}[action]
    if reverse:  # group.user_set.add(user, …): one line per account
        users = User.objects.filter(pk__in=pk_set if action != "post_clear" else pks_or_names)
        for user in users:
            security_log.record("role.changed", target=_account(user), **{how: [instance.name]})
        return
    names = (
        sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        if action != "post_clear"
        else sorted(pks_or_names)
    )
    security_log.record("role.changed", target=_account(instance), **{how: names})
