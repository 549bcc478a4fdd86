from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin, workspace_site
from scans.models import Scan


@admin.register(Scan, site=workspace_site)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ["scanned_at", "stop", "device", "browser", "os", "country", "is_bot"]
    list_filter = ["is_bot", "device", "country"]
    list_select_related = ["stop"]
    date_hierarchy = "scanned_at"
    show_full_result_count = False
