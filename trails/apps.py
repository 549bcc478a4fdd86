from django.apps import AppConfig


class TrailsConfig(AppConfig):
    name = "trails"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from accounts.models import Customer
        from trails.models import Stop, Trail
        from trails.pagecache import forget_pages

        # Scanner pages show the workspace's name and branding as well as the trail.
        for model in (Trail, Stop, Customer):
            post_save.connect(forget_pages, sender=model, dispatch_uid=f"forget_pages_{model.__name__}")
