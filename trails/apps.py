from django.apps import AppConfig


class TrailsConfig(AppConfig):
    name = "trails"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import Customer
        from trails.models import Asset, Stop, StopTranslation, Trail, TrailTranslation
        from trails.pagecache import forget_pages

        # Scanner pages show the workspace's name and branding, the trail, its translations, and its media (a
        # replaced file has a new key, so a page must follow it; a deleted one shows its alt text instead).
        for model in (Trail, Stop, Customer, TrailTranslation, StopTranslation, Asset):
            post_save.connect(forget_pages, sender=model, dispatch_uid=f"forget_pages_{model.__name__}")
        post_delete.connect(forget_pages, sender=TrailTranslation, dispatch_uid="forget_pages_deleted_translation")
        post_delete.connect(forget_pages, sender=Asset, dispatch_uid="forget_pages_deleted_asset")
