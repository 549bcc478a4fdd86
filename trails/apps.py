from django.apps import AppConfig


class TrailsConfig(AppConfig):
    name = "trails"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import Customer
        from trails.models import Stop, StopTranslation, Trail, TrailTranslation
        from trails.pagecache import forget_pages

        # Scanner pages show the workspace's name and branding, the trail, and its translations.
        for model in (Trail, Stop, Customer, TrailTranslation, StopTranslation):
            post_save.connect(forget_pages, sender=model, dispatch_uid=f"forget_pages_{model.__name__}")
        post_delete.connect(forget_pages, sender=TrailTranslation, dispatch_uid="forget_pages_deleted_translation")
