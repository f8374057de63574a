"""Recompute the SHA-256 of every stored evidence file and report what is missing or changed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evidence.fixity import verify_all


class Command(BaseCommand):
    help = (
        "Recompute the hash of every stored capture file and attachment, compare it with the "
        "one recorded, save the result (the staff desk shows it) and exit with 1 on any "
        "missing or changed file. Run it from cron, e.g. daily."
    )

    def handle(self, *args, **options):
        check = verify_all()
        for problem in check.problems:
            self.stdout.write(
                self.style.ERROR(
                    f"{problem['problem'].upper()}: {problem['record']} {problem['field']} "
                    f"({problem['path']})"
                )
            )
        summary = f"{check.files_checked} files checked, {len(check.problems)} problems."
        if check.problems:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))
