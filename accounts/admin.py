"""Two staff sites: the public host's (workspaces, people) and each workspace host's (its trails and scans).

The staff admin follows the dashboard's rules: it validates with the same model validators and
forms (WorkspaceSettingsForm, WorkspaceDeleteForm, Membership.clean) and changes memberships
through the same model methods (Membership.change_role, Membership.remove), so no one, staff
included, can leave a workspace without an owner or with settings that break it.
"""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import URLPattern
from django_tenants.utils import get_public_schema_name

from accounts.forms import WorkspaceDeleteForm, WorkspaceSettingsForm
from accounts.models import (
    ApiKey,
    Customer,
    Domain,
    DomainInUse,
    Invitation,
    LastOwnerError,
    Membership,
    OutgoingEmail,
    User,
)


class StaffSite(admin.AdminSite):
    """What both staff sites share: rate-limited log-ins and a "view on site" that respects permissions."""

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Failed staff log-ins count against the same limits as allauth's (ACCOUNT_RATE_LIMITS)."""
        if request.method != "POST":
            return super().login(request, extra_context)
        email = request.POST.get("username", "").strip().lower()
        if not ratelimit.consume(request, action="admin_login_failed", key=email, dry_run=True):
            return ratelimit.respond_429(request)
        response = super().login(request, extra_context)
        if not request.user.is_authenticated:
            ratelimit.consume(request, action="admin_login_failed", key=email)
        return response

    def get_urls(self) -> list:
        urls = super().get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern) and pattern.name == "view_on_site":
                pattern.callback = self.admin_view(self.view_on_site)
        return urls

    def view_on_site(self, request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
        """Django's "view on site" redirect, only for objects this site shows the person with that link.

        Django's own (contenttypes' `shortcut`) sends any staff member to any object's
        get_absolute_url, whatever their permissions: for a stop, its /qr/ URL, which gives
        away the tokens of draft trails and counts a customer's scan.
        """
        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404("No such object.") from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.view_on_site:
            raise Http404("No such object.")
        obj = model_admin.get_object(request, object_id)
        if obj is None or not model_admin.has_view_permission(request, obj):
            raise Http404("No such object.")
        if callable(model_admin.view_on_site):
            return HttpResponseRedirect(model_admin.view_on_site(obj))
        return shortcut(request, content_type_id, object_id)


class PublicAdminSite(StaffSite):
    site_header = "QRCards staff"
    site_title = "QRCards staff"


class WorkspaceAdminSite(StaffSite):
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


def _sole_owners(memberships) -> list[str]:
    """Of `memberships` (about to be deleted), those whose going would leave a workspace without an owner."""
    losing: dict[int, set[int]] = {}
    for membership in memberships:
        if membership.role == Membership.Role.OWNER:
            losing.setdefault(membership.customer_id, set()).add(membership.pk)
    return [
        f"{membership}: the last owner of its workspace; make someone else an owner first"
        for membership in memberships
        if membership.customer_id in losing
        and not Membership.objects.keeps_an_owner(membership.customer_id, losing=losing[membership.customer_id])
    ]


class MembershipFormSet(BaseInlineFormSet):
    """Memberships edited as rows of a workspace's or a person's page, by the team page's rules.

    Each row is checked by Membership.clean() (not moved, the last owner not demoted); the rows are
    also checked together (demoting or removing two of two owners at once), and saved through the
    model's change_role() and remove(), which check again under a lock. Promote first, then demote:
    as on the team page, a workspace never passes through having no owner.
    """

    def clean(self) -> None:
        super().clean()
        leaving = []  # memberships that stop being owners, if they are owners now
        for form in self.initial_forms:
            deleted = self._should_delete_form(form)
            if deleted or (form.is_valid() and form.cleaned_data.get("role") != Membership.Role.OWNER):
                leaving.append(form.instance.pk)
        owners = Membership.objects.filter(pk__in=leaving, role=Membership.Role.OWNER)
        if _sole_owners(list(owners)):
            raise LastOwnerError()

    def save_existing(self, form, obj: Membership, commit: bool = True) -> Membership:
        obj.change_role(form.cleaned_data["role"])
        return obj

    def delete_existing(self, obj: Membership, commit: bool = True) -> None:
        if commit:
            obj.remove()


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["user"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = Customer.objects.exclude(schema_name=get_public_schema_name())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


DOMAIN_FIELDS = ["domain", "is_primary", "is_custom", "verified_at", "proof_missing_since", "lapsed_at"]


class DomainInline(admin.TabularInline):
    """A workspace's hosts, to look at: its owners add and verify domains on its settings page."""

    model = Domain
    extra = 0
    fields = DOMAIN_FIELDS
    readonly_fields = DOMAIN_FIELDS
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer, site=public_site)
class CustomerAdmin(admin.ModelAdmin):
    # The dashboard's settings form: the same checks (accent contrast, logo content) as an owner gets.
    form = WorkspaceSettingsForm
    list_display = ["name", "schema_name", "member_count", "created_at"]
    search_fields = ["name", "schema_name", "domains__domain", "memberships__user__email"]
    # Tens of thousands of workspaces: a page at a time, the same few queries whatever their number, and no
    # second count of every workspace under a search's results (bench/scale.py times it).
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["name", "schema_name"]}),
        (
            "Settings",
            {"fields": ["time_zone", "scan_retention_days", "record_country", "record_referrer"]},
        ),
        ("API", {"fields": ["api_requests_per_minute"]}),
        ("Branding", {"fields": ["accent_colour", "logo", "website"]}),
    ]
    inlines = [DomainInline, MembershipInline]
    delete_confirmation_template = "admin/accounts/customer/delete_confirmation.html"

    def get_queryset(self, request):
        # The public "workspace" is the landing page's tenant, holding everyone's accounts: not a customer.
        queryset = super().get_queryset(request).exclude(schema_name=get_public_schema_name())
        return queryset.annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count", description="members")
    def member_count(self, obj: Customer) -> int:
        return obj.member_count

    def get_readonly_fields(self, request, obj=None):
        # A schema can't be renamed in place.
        return ["schema_name"] if obj else []

    def get_actions(self, request):
        # Deleting a workspace drops a schema: one at a time, each with its own confirmation page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        """Django's confirmation page, saying what is destroyed and asking for the slug, as the dashboard does."""
        workspace = self.get_object(request, object_id)
        if workspace is None or not self.has_delete_permission(request, workspace):
            return super().delete_view(request, object_id, extra_context)
        form = WorkspaceDeleteForm(request.POST if request.method == "POST" else None, workspace=workspace)
        if request.method == "POST" and not form.is_valid():
            # Django's view deletes on any POST; without the right slug it must show the page again.
            request.POST = QueryDict()
        extra_context = {**(extra_context or {}), "confirm_form": form, "contents": workspace.content_counts()}
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj: Customer) -> None:
        obj.delete_workspace()


@admin.register(Domain, site=public_site)
class DomainAdmin(admin.ModelAdmin):
    """Domains, as their workspaces keep them: looked at here, and removed by the dashboard's rules.

    A domain is added and verified by its workspace (a DNS record proves it is theirs), so staff add and
    change none. They may remove a custom domain (a name held by someone who doesn't own it, say; the page
    lists the printed cards that go with it), never a workspace's own host, the public host, or the
    domain a workspace's cards print now (Domain.check_removable, checked again under a lock).
    """

    list_display = ["domain", "tenant", "is_primary", "is_custom", "status", "verified_at"]
    list_filter = ["is_custom", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    list_select_related = ["tenant"]
    fields = ["tenant", *DOMAIN_FIELDS, "created_at", "last_checked_at", "check_note"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_deleted_objects(self, objs, request):
        # Not has_delete_permission(obj): the workspace's delete page asks that of each of its domains too.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        kept = []
        for domain in objs:
            try:
                domain.check_removable()
            except DomainInUse as error:
                kept.append(f"{domain}: {error.messages[0]}")
        return deleted, counts, perms_needed, [*protected, *kept]

    def delete_model(self, request, obj: Domain) -> None:
        obj.remove()

    def delete_queryset(self, request, queryset) -> None:
        for domain in queryset:
            domain.remove()


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
    STAFF_POWERS = ["is_staff", "is_superuser", "groups", "user_permissions"]

    def get_readonly_fields(self, request, obj=None):
        # Staff powers are granted by superusers only: a staff member allowed to edit people
        # could otherwise make themselves a superuser.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else [*readonly, *self.STAFF_POWERS]

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        owned = Membership.objects.filter(user__in=list(objs), role=Membership.Role.OWNER).select_related("user")
        return deleted, counts, perms_needed, [*protected, *_sole_owners(list(owned))]


@admin.register(Membership, site=public_site)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "customer__name"]
    list_select_related = ["user", "customer"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        # A membership is not moved; it is removed and another added.
        return ["user", "customer"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["queryset"] = Customer.objects.exclude(schema_name=get_public_schema_name())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: Membership, form, change) -> None:
        if change:
            obj.change_role(obj.role)
        else:
            obj.save()

    def delete_model(self, request, obj: Membership) -> None:
        obj.remove()

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            membership.remove()

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed, [*protected, *_sole_owners(list(objs))]


@admin.register(Invitation, site=public_site)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are made and resent on the team page, by members whose role may grant theirs; here, looked at
    or cancelled (deleted)."""

    list_display = ["email", "customer", "role", "invited_by", "sent_at", "accepted_at"]
    search_fields = ["email", "customer__name"]
    list_select_related = ["customer", "invited_by"]
    readonly_fields = ["customer", "email", "role", "invited_by", "sent_at", "accepted_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ApiKey, site=public_site)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "customer", "scope", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "customer__name"]
    list_select_related = ["customer"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["customer", "name", "scope", "created_by", "last_used_at"]
        # A revoked key stays revoked: its owner revoked it for a reason (a leak, say).
        return [*readonly, "revoked_at"] if obj is not None and obj.revoked_at else readonly

    def has_add_permission(self, request) -> bool:
        # A key's secret is shown once, to whoever creates it on the dashboard.
        return False


@admin.register(OutgoingEmail, site=public_site)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """E-mails waiting to go, for support to see why one hasn't arrived; their bodies (log-in codes) are not shown."""

    list_display = ["subject", "recipients", "created_at", "attempts", "next_attempt_at", "last_error"]
    search_fields = ["recipients", "subject"]
    fields = ["subject", "recipients", "created_at", "attempts", "next_attempt_at", "last_error"]
