"""Import detentions from a CSV file in the columns of the detentions export."""

from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.import_jobs import start_import
from incidents.models import ImportJobState


class Command(BaseCommand):
    help = (
        "Import detentions from a CSV file with the columns of the detentions export "
        "(see the 'About the data' page). Every row is checked first; if any row has an "
        "error nothing is imported and each error is listed with its row and column. New "
        "records are drafts. Importing the same file again creates no duplicates. The "
        "import is stored as a job, listed on the staff import page with its report; it runs "
        "here, or with --queue in the background worker (manage.py db_worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; import nothing."
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Staff user the change history names as the author.",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Leave the import to the background worker; print where to follow it.",
        )

    def handle(self, *args, file, dry_run, user, queue, **options):
        author = None
        if user:
            author = get_user_model().objects.filter(username=user, is_staff=True).first()
            if author is None:
                raise CommandError(f"No staff user is named {user!r}.")
        try:
            # utf-8-sig: spreadsheets write a byte-order mark that is not part of the header.
            with open(file, encoding="utf-8-sig", newline="") as lines:
                text = lines.read()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text.") from None
        job = start_import(
            text=text,
            file_name=Path(file).name,
            user=author,
            dry_run=dry_run,
            run_here=not queue,
        )
        if queue:
            self.stdout.write(
                f"Import job {job.pk} queued for the worker; follow it at "
                f"{job.progress_url()} (state: {job.state})."
            )
            return
        report = job.report
        if job.state != ImportJobState.SUCCEEDED:
            for error in report.get("errors", []):
                where = f"row {error['row']}" if error["row"] else "file"
                if error["column"]:
                    where += f", column {error['column']}"
                self.stderr.write(f"{where}: {error['message']}")
            count = len(report.get("errors", []))
            raise CommandError(f"{count} error(s) in {file}; nothing was imported.")
        verb = "would be" if dry_run else "were"
        self.stdout.write(f"{report['rows']} rows read.")
        for row in report["summary"]:
            records = apps.get_model(row["model"])._meta.verbose_name_plural
            self.stdout.write(
                f"{records}: {row['created']} {verb} created, {row['updated']} {verb} updated"
            )
        self.stdout.write(f"detentions unchanged: {report['unchanged_detentions']}")
        if report["proposed"]:
            self.stdout.write(
                f"changes to published records proposed for review: {report['proposed']}"
            )
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was imported."))
        else:
            self.stdout.write(self.style.SUCCESS("Imported; new records are drafts."))
        self.stdout.write(f"Report: {job.progress_url()}")
