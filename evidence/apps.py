from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Evidence")

    def ready(self):
        from evidence.capture import capture_on_creation
        from incidents.models import Source

        # A new source with an address is captured, whichever door created it.
        post_save.connect(capture_on_creation, sender=Source, dispatch_uid="evidence-capture")
