"""Import detentions from a CSV file in the columns of the detentions export."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.importer import import_detentions


class Command(BaseCommand):
    help = (
        "Import detentions from a CSV file with the columns of the detentions export "
        "(see the 'About the data' page). Every row is checked first; if any row has an "
        "error nothing is imported and each error is listed with its row and column. New "
        "records are drafts. Importing the same file again creates no duplicates."
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

    def handle(self, *args, file, dry_run, user, **options):
        author = None
        if user:
            author = get_user_model().objects.filter(username=user, is_staff=True).first()
            if author is None:
                raise CommandError(f"No staff user is named {user!r}.")
        try:
            # utf-8-sig: spreadsheets write a byte-order mark that is not part of the header.
            with open(file, encoding="utf-8-sig", newline="") as lines:
                report = import_detentions(lines=lines, user=author, dry_run=dry_run)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text.") from None

        if not report.ok:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(report.errors)} error(s) in {file}; nothing was imported.")
        verb = "would be" if dry_run else "were"
        self.stdout.write(f"{report.rows} rows read.")
        for records, created, updated in report.summary():
            self.stdout.write(f"{records}: {created} {verb} created, {updated} {verb} updated")
        self.stdout.write(f"detentions unchanged: {report.unchanged_detentions}")
        if report.proposed:
            self.stdout.write(
                f"changes to published records proposed for review: {report.proposed}"
            )
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was imported."))
        else:
            self.stdout.write(self.style.SUCCESS("Imported; new records are drafts."))
