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

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Trail, site=workspace_site)
class TrailAdmin(admin.ModelAdmin):
    form = TrailSourceForm
    list_display = ["title", "status", "theme", "version", "updated_at"]
    list_filter = ["status", "theme"]
    search_fields = ["title"]
    readonly_fields = ["title", "theme", "language", "version"]
    inlines = [StopInline]

    def save_model(self, request, obj: Trail, form, change) -> None:
        # Assembling saves the trail and syncs its stops in one transaction.
        obj.set_source(form.cleaned_data["source"])

    def has_delete_permission(self, request, obj=None) -> bool:
        # Tokens are forever: a trail's stops are retired, never deleted.
        return False


@admin.register(Stop, site=workspace_site)
class StopAdmin(ReadOnlyAdmin):
    list_display = ["title", "trail", "position", "token", "retired_at"]
    list_filter = ["trail"]
    search_fields = ["title", "token", "key"]
    list_select_related = ["trail"]
