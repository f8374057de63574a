from django.apps import AppConfig, apps


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"

    def ready(self):
        from cabar_tracker.publishing import ReviewedModel, guard_public_links
        from incidents import accounts, permalinks, public_counts

        public_counts.connect()
        # The record's columns keep the preferred account's value, from every door.
        accounts.connect()
        # Old slugs kept, and a case's "last updated" moved by its parts, from every door.
        permalinks.connect()
        # The links of a public record (of either app) change only through review.
        for model in apps.get_models():
            if issubclass(model, ReviewedModel):
                guard_public_links(model)
