"""Fail the import and export jobs whose worker is gone, and delete old job files.

Run it from cron (README, "Background jobs"): a job "running" for longer than
JOB_STUCK_MINUTES is marked failed with the reason on its page; export files and stored
import files older than JOB_FILE_RETENTION_DAYS are deleted (the export's page then answers
410 Gone; the import's report stays). The work is `incidents.export_jobs.clean_jobs()`.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from incidents.export_jobs import clean_jobs


class Command(BaseCommand):
    help = (
        "Mark import and export jobs running for longer than JOB_STUCK_MINUTES as failed, and "
        "delete export files and stored import files older than JOB_FILE_RETENTION_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be done; change and delete nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        done = clean_jobs(dry_run=dry_run)
        if dry_run:
            self.stdout.write("Dry run: nothing is changed or deleted.")
        self.stdout.write(
            f"Stuck jobs marked failed (running for more than {settings.JOB_STUCK_MINUTES} "
            f"minutes): {len(done.stuck_imports)} imports, {len(done.stuck_exports)} exports."
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Older than {settings.JOB_FILE_RETENTION_DAYS} days: "
                f"{len(done.expired_exports)} exports expired, "
                f"{len(done.deleted_files)} export files deleted, "
                f"{len(done.emptied_imports)} import files emptied."
            )
        )
