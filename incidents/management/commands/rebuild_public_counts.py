"""Recompute the maintained counts of published incidents (incidents/public_counts.py).

Every write through the ORM keeps them in step; this is for data written around it (a bulk
load in SQL, a restored backup) and for checking: `--check` recomputes without writing and
says whether the stored counts were right.
"""

from django.core.management.base import BaseCommand, CommandError

from incidents import public_counts
from incidents.models import Incident, PublicIncidentCount


class Command(BaseCommand):
    help = "Recompute the counts the public case list reads (summary, chart, facets)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare the stored counts with freshly computed ones; write nothing. "
            "Exits with an error when they differ.",
        )

    def handle(self, *args, check=False, **options):
        if check:
            fresh = set(
                map(public_counts.row_key, public_counts.compute(Incident.objects.published()))
            )
            stored = set(map(public_counts.row_key, PublicIncidentCount.objects.all()))
            if fresh != stored:
                raise CommandError(
                    f"The stored counts differ: {len(stored - fresh)} stale rows, "
                    f"{len(fresh - stored)} missing. Run rebuild_public_counts to fix them."
                )
            self.stdout.write(self.style.SUCCESS(f"The {len(stored):,} stored rows are right."))
            return
        rows = public_counts.rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {rows:,} count rows."))
