"""Two staff sites: the public host's (workspaces, people) and each workspace host's (its trails and scans)."""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name

from accounts.models import ApiKey, Customer, Domain, Invitation, Membership, User


class RateLimitedLoginSite(admin.AdminSite):
    """Failed staff log-ins count against the same limits as allauth's (ACCOUNT_RATE_LIMITS["admin_login_failed"])."""

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        email = request.POST.get("username", "").strip().lower()
        if not ratelimit.consume(request, action="admin_login_failed", key=email, dry_run=True):
            return ratelimit.respond_429(request)
        response = super().login(request, extra_context)
        if not request.user.is_authenticated:
            ratelimit.consume(request, action="admin_login_failed", key=email)
        return response


class PublicAdminSite(RateLimitedLoginSite):
    site_header = "QRCards staff"
    site_title = "QRCards staff"


class WorkspaceAdminSite(RateLimitedLoginSite):
    site_header = "QRCards staff · workspace"
    site_title = "QRCards workspace"


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody edits by hand: stops follow their trail's Markdown, scans are what happened."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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

    def has_delete_permission(self, request, obj=None) -> bool:
        # The public "workspace" holds everyone's accounts.
        if obj is not None and obj.schema_name == get_public_schema_name():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Deleting a workspace drops a schema: one at a time, each with its own confirmation page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj: Customer) -> None:
        obj.delete_workspace()


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


@admin.register(Invitation, site=public_site)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "customer", "role", "sent_at", "accepted_at"]
    search_fields = ["email", "customer__name"]
    list_select_related = ["customer"]
    raw_id_fields = ["invited_by"]


@admin.register(ApiKey, site=public_site)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "customer", "scope", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "customer__name"]
    list_select_related = ["customer"]
    readonly_fields = ["customer", "name", "scope", "created_by", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        # A key's secret is shown once, to whoever creates it on the dashboard.
        return False
