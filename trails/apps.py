from django.apps import AppConfig


class TrailsConfig(AppConfig):
    name = "trails"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from trails.models import Stop, Trail
        from trails.views import forget_pages

        for model in (Trail, Stop):
            post_save.connect(forget_pages, sender=model, dispatch_uid=f"forget_pages_{model.__name__}")
