"""Invalidate the DRF tokens that were stored in clear.

Their keys sat readable in the database, and so in every backup and copy of it since they
were made: whoever saw one of those could use the key, and nothing would tell. Hashing them
now would keep them working but could not make them secret again, so they are deleted, and
each deletion is written to the security log (`token.revoked`, reason below) so the owner
can be told to make a new token at /account/api-token/.
"""

from django.db import migrations
from django.utils import timezone

REASON = "DRF token stored in clear; invalidated when tokens became hashed"


def invalidate(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    SecurityEvent = apps.get_model("accounts", "SecurityEvent")
    now = timezone.now()
    for token in Token.objects.select_related("user"):
        SecurityEvent.objects.create(
            created_at=now,
            event="token.revoked",
            user=token.user,
            username=token.user.username,
            details={"reason": REASON, "via": "migration", "created": token.created.isoformat()},
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_api_tokens_and_security_log"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(invalidate, migrations.RunPython.noop)]
