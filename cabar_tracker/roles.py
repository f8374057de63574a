"""Staff roles as Django groups: editor, reviewer, admin.

- editor: creates and edits records, which stay drafts or go to review;
- reviewer: everything an editor does, plus publish and unpublish, revert a record to an
  earlier version, and merge two records of the same person;
- admin: everything a reviewer does, plus managing staff accounts.

Staff members also have `is_staff`, which is what lets them see drafts and staff-only
fields (`cabar_tracker.publishing.can_see_unpublished`). A data migration creates the groups;
`manage.py create_staff_user --role …` puts a user in one. Change a role here and add a
migration that calls `sync_role_groups` again.
"""

from __future__ import annotations

EDITOR, REVIEWER, ADMIN = "editor", "reviewer", "admin"
ROLES = (EDITOR, REVIEWER, ADMIN)

DOMAIN_MODELS = {
    "incidents": [
        "situation",
        "location",
        "incident",
        "detention",
        "allegation",
        "account",
        "incidentevent",
        "reportedgroup",
        "statement",
        "source",
        "followupaction",
    ],
    "people": ["person", "personname", "organization", "position"],
}

EDITOR_PERMISSIONS = [
    f"{app_label}.{action}_{model}"
    for app_label, models in DOMAIN_MODELS.items()
    for model in models
    for action in ("view", "add", "change")
]
REVIEWER_PERMISSIONS = [
    *EDITOR_PERMISSIONS,
    "incidents.publish_record",
    "incidents.revert_record",
    "people.merge_person",
]
ADMIN_PERMISSIONS = [
    *REVIEWER_PERMISSIONS,
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    "authtoken.view_token",
    "authtoken.delete_token",
]
ROLE_PERMISSIONS = {
    EDITOR: EDITOR_PERMISSIONS,
    REVIEWER: REVIEWER_PERMISSIONS,
    ADMIN: ADMIN_PERMISSIONS,
}


def sync_role_groups(apps) -> None:
    """Create the role groups and give each exactly its permissions.

    `apps` is the app registry: `django.apps.apps`, or a migration's historical one.
    """
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; create them now so a
    # migration can attach them to groups on a fresh database.
    for app_config in apps.get_app_configs():
        # create_permissions skips apps whose models module is not loaded yet, which is the
        # case in a migration's app registry; pretend it is, then put the value back.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None and _model_not_created_yet(apps, app_label, codename):
                # An earlier migration syncs the roles before a later one creates the
                # model (people 0005 runs before the reported groups and accounts exist); the
                # migration that creates it syncs them again.
                continue
            if permission is None:
                raise LookupError(f"No permission {dotted}")
            permissions.append(permission)
        group.permissions.set(permissions)


def _model_not_created_yet(apps, app_label: str, codename: str) -> bool:
    model_name = codename.split("_", 1)[1] if "_" in codename else ""
    try:
        apps.get_model(app_label, model_name)
    except LookupError:
        return True
    return False
