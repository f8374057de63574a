"""Enable pg_trgm on PostgreSQL for trigram name similarity (a no-op on SQLite)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [TrigramExtension()]
