from django.apps import AppConfig


class TrailsConfig(AppConfig):
    name = "trails"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import Customer
        from trails.models import Stop, StopTranslation, Trail, TrailTranslation
        from trails.pagecache import forget_pages, forget_translated_pages

        # Scanner pages show the workspace's name and branding as well as the trail.
        for model in (Trail, Stop, Customer):
            post_save.connect(forget_pages, sender=model, dispatch_uid=f"forget_pages_{model.__name__}")
        # A translation, even a new one, changes pages that exist: their words, the languages they list.
        for model in (TrailTranslation, StopTranslation):
            post_save.connect(forget_translated_pages, sender=model, dispatch_uid=f"forget_pages_{model.__name__}")
        post_delete.connect(
            forget_translated_pages, sender=TrailTranslation, dispatch_uid="forget_pages_deleted_translation"
        )
