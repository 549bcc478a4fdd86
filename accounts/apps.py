from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and workspaces"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.models.signals import post_delete, post_save
        from django_tenants.signals import schema_migrated

        from accounts.middleware import forget_hosts
        from accounts.models import Customer, Domain
        from accounts.schemas import recycle_connection_after_request, refresh_template_after_public_migration

        for model in (Customer, Domain):
            post_save.connect(forget_hosts, sender=model, dispatch_uid=f"forget_hosts_save_{model.__name__}")
            post_delete.connect(forget_hosts, sender=model, dispatch_uid=f"forget_hosts_delete_{model.__name__}")
        schema_migrated.connect(refresh_template_after_public_migration, dispatch_uid="refresh_template_schema")
        # After Django's own close_old_connections (connected first), which may have closed it already.
        request_finished.connect(recycle_connection_after_request, dispatch_uid="recycle_connection_after_request")
