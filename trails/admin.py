from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin, workspace_site
from trails.forms import TrailSourceForm
from trails.models import Stop, Trail


class StopInline(admin.TabularInline):
    model = Stop
    fields = ["position", "title", "key", "token", "retired_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    view_on_site = False  # see StopAdmin

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Trail, site=workspace_site)
class TrailAdmin(admin.ModelAdmin):
    form = TrailSourceForm
    list_display = ["title", "state", "theme", "version", "updated_at"]
    list_filter = [DeletedFilter, "status", "theme"]
    search_fields = ["title"]
    readonly_fields = ["title", "theme", "language", "version", "deleted_at"]
    inlines = [StopInline]

    @admin.display(description="status", ordering="status")
    def state(self, obj: Trail) -> str:
        # A deleted trail keeps the status it had; what its cards show is the retired page.
        return f"Deleted ({obj.get_status_display().lower()})" if obj.deleted_at else obj.get_status_display()

    def has_change_permission(self, request, obj: Trail | None = None) -> bool:
        # Saving a deleted trail's document would bring its retired stops back to life.
        if obj is not None and obj.deleted_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj: Trail, form, change) -> None:
        # Assembling saves the trail and syncs its stops in one transaction; an unchanged document saves
        # nothing (no new version), so a change of status alone is saved here.
        obj.set_source(form.cleaned_data["source"])
        if change and "status" in form.changed_data:
            obj.save(update_fields=["status", "updated_at"])

    def has_delete_permission(self, request, obj=None) -> bool:
        # Tokens are forever: a trail's stops are retired, never deleted.
        return False


@admin.register(Stop, site=workspace_site)
class StopAdmin(ReadOnlyAdmin):
    # A stop's page is its /qr/ URL: opening it counts a customer's scan, and a draft's token is not for
    # every staff member to read (accounts.admin.StaffSite.view_on_site).
    view_on_site = False
    list_display = ["title", "trail", "position", "token", "retired_at"]
    list_filter = ["trail"]
    search_fields = ["title", "token", "key"]
    list_select_related = ["trail"]
