"""Give every withheld identity a slug that says nothing of the person.

Until now a withheld person's slug was made from their name, so /people/<name-slug>/
answering at all confirmed that a named person is a recorded detainee. `Person.save()` now
gives a withheld identity a random slug on every path; this gives one to those already
stored. The old slugs stop answering (404). The history rows keep the old slug; the history
is staff-only.
"""

import re
import secrets

from django.db import migrations

WITHHELD_SLUG = re.compile(r"p-[0-9a-f]{12}")


def reslug_withheld(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    for person in Person.objects.filter(identity_withheld=True).only("pk", "slug"):
        if not WITHHELD_SLUG.fullmatch(person.slug):
            person.slug = f"p-{secrets.token_hex(6)}"
            person.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("people", "0007_name_key_text_index")]

    operations = [migrations.RunPython(reslug_withheld, migrations.RunPython.noop)]
