from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and workspaces"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.middleware import forget_hosts
        from accounts.models import Customer, Domain

        for model in (Customer, Domain):
            post_save.connect(forget_hosts, sender=model, dispatch_uid=f"forget_hosts_save_{model.__name__}")
            post_delete.connect(forget_hosts, sender=model, dispatch_uid=f"forget_hosts_delete_{model.__name__}")
