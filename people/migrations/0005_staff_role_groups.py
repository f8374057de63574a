"""Create the staff role groups (editor, reviewer, admin) with their permissions."""

from django.db import migrations

from cabar_tracker.roles import sync_role_groups


def create_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_merge_person_permission"),
        ("incidents", "0004_follow_up_actions_and_review_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
