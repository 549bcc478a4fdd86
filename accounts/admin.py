"""Two staff sites: the public host's (workspaces, people) and each workspace host's (its trails and scans)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from accounts.models import Customer, Domain, Membership, User


class PublicAdminSite(admin.AdminSite):
    site_header = "QRCards staff"
    site_title = "QRCards staff"


class WorkspaceAdminSite(admin.AdminSite):
    site_header = "QRCards staff · workspace"
    site_title = "QRCards workspace"


public_site = PublicAdminSite(name="public_admin")
workspace_site = WorkspaceAdminSite(name="workspace_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Customer, site=public_site)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "member_count", "created_at"]
    search_fields = ["name", "schema_name", "domains__domain"]
    inlines = [DomainInline, MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count", description="members")
    def member_count(self, obj: Customer) -> int:
        return obj.member_count

    def get_readonly_fields(self, request, obj=None):
        # A schema can't be renamed in place.
        return ["schema_name"] if obj else []


@admin.register(Domain, site=public_site)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    list_select_related = ["tenant"]


@admin.register(User, site=public_site)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [MembershipInline]


@admin.register(Membership, site=public_site)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "customer__name"]
    list_select_related = ["user", "customer"]
    autocomplete_fields = ["user"]
