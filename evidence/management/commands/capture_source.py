"""Capture a source's address now (as the staff "Archive now" button does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evidence.capture import request_capture
from incidents.models import Source


class Command(BaseCommand):
    help = "Capture the address of the sources named by id; the job runs on the worker."

    def add_arguments(self, parser):
        parser.add_argument("source_ids", nargs="+", type=int)

    def handle(self, *args, source_ids, **options):
        for pk in source_ids:
            source = Source.objects.not_archived().filter(pk=pk).first()
            if source is None or not source.url:
                raise CommandError(f"No source {pk} with an address.")
            capture = request_capture(source=source)
            self.stdout.write(
                f"source {pk}: capture {capture.pk} {capture.status} {capture.reason}"
            )
