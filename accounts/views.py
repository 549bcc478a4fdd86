from __future__ import annotations

import logging
import time

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Min
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe
from PIL import Image, UnidentifiedImageError
from requests import RequestException

from accounts.adapter import INVITATION_SESSION_KEY, on_public_host
from accounts.domains import Proof, add_domain, verify
from accounts.forms import (
    ApiKeyForm,
    DomainForm,
    DomainRemoveForm,
    FindWorkspacesForm,
    InvitationForm,
    RoleForm,
    SingleSignOnForm,
    WebhookEndpointForm,
    WorkspaceDeleteForm,
    WorkspaceForm,
    WorkspaceSettingsForm,
)
from accounts.models import (
    ApiKey,
    Customer,
    Domain,
    DomainInUse,
    Invitation,
    Membership,
    SingleSignOn,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from accounts.permissions import member_required
from accounts.roles import grantable_roles, may_grant, may_manage
from accounts.sso import WorkspaceOIDCAdapter, password_refused, refuse, workspace_sso
from accounts.webhooks import deliveries_for, redeliver, send_test_event
from accounts.workspaces import (
    create_workspace,
    email_url,
    make_handoff_token,
    public_url,
    use_handoff_token,
    workspace_url,
)

log = logging.getLogger(__name__)
SESSION_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def _public_only(request: HttpRequest) -> None:
    if not on_public_host(request):
        raise Http404("No such page.")


def _get_member(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, customer=request.tenant)


def _get_invitation(request: HttpRequest, pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, customer=request.tenant, accepted_at__isnull=True)


def _send_invitation(request: HttpRequest, invitation: Invitation) -> None:
    url = email_url(invitation.customer.primary_host, reverse("invitation-accept", args=[invitation.token()]))
    context = {"invitation": invitation, "workspace": invitation.customer, "url": url, "inviter": request.user}
    get_adapter(request).send_mail("accounts/email/invitation", invitation.email, context)


# The public host


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/landing.html", {"contact": f"hello@{settings.QRCARDS_DOMAIN}"})


@require_http_methods(["GET", "HEAD", "POST"])
def workspace_finder(request: HttpRequest) -> HttpResponse:
    """The public "Log in": mails the address its workspaces. The page says the same whether or not it has any."""
    _public_only(request)
    form = FindWorkspacesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if ratelimit.consume(request, action="find_workspaces", key=email):
            memberships = Membership.objects.filter(user__email__iexact=email, user__is_active=True)
            login_path = reverse("account_login", urlconf=settings.ROOT_URLCONF)
            workspaces = [
                (m.customer, email_url(m.customer.primary_host, login_path))
                for m in memberships.select_related("customer")
                .prefetch_related("customer__domains")
                .order_by("customer__name")
            ]
            signup_url = email_url(settings.QRCARDS_DOMAIN, reverse("account_signup"))
            context = {"workspaces": workspaces, "signup_url": signup_url}
            get_adapter(request).send_mail("accounts/email/workspaces", email, context)
        return render(request, "accounts/workspace_finder_sent.html", {"email": email})
    return render(request, "accounts/workspace_finder.html", {"form": form})


@login_required
@require_safe
def workspace_list(request: HttpRequest) -> HttpResponse:
    _public_only(request)
    memberships = list(
        request.user.memberships.select_related("customer")
        .prefetch_related("customer__domains")
        .order_by("customer__name")
    )
    if not memberships:
        return redirect("workspace-create")
    for membership in memberships:
        # Each workspace opens on the host its cards print; its other hosts are offered beside it.
        primary = membership.customer.primary_host
        membership.other_hosts = sorted(
            domain.domain
            for domain in membership.customer.domains.all()
            if domain.is_served and domain.domain != primary
        )
        # "Open" redirects there after the form is sent: the page's policy must let forms lead to them.
        _allow_forms_to(request, primary, *membership.other_hosts)
    return render(request, "accounts/workspace_list.html", {"memberships": memberships})


def _allow_forms_to(request: HttpRequest, *hosts: str) -> None:
    """Let this page's forms lead to `hosts` (read by qrcards.middleware.ContentSecurityPolicyMiddleware)."""
    request.csp_form_hosts = [*getattr(request, "csp_form_hosts", []), *hosts]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def workspace_create(request: HttpRequest) -> HttpResponse:
    _public_only(request)
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = time.perf_counter()
        try:
            customer = create_workspace(
                name=form.cleaned_data["name"], slug=form.cleaned_data["slug"], owner=request.user
            )
        except ValidationError as error:
            # Someone took the address between validating and creating.
            form.add_error("slug", ValidationError(error.messages[0], code="taken"))
        else:
            log.info("Provisioned workspace %s in %.0f ms", customer.schema_name, (time.perf_counter() - started) * 1e3)
            return _hand_off(request, customer)
    return render(request, "accounts/workspace_create.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def workspace_open(request: HttpRequest, slug: str) -> HttpResponse:
    """Log the member in on one of the workspace's hosts (`host`, one it serves), by default the one its cards print."""
    _public_only(request)
    membership = get_object_or_404(Membership, user=request.user, customer__schema_name=slug)
    host = request.POST.get("host", "").strip().lower()
    if host and not membership.customer.domains.served().filter(domain=host).exists():
        raise Http404("No such host.")
    return _hand_off(request, membership.customer, host=host or None)


def _hand_off(request: HttpRequest, customer: Customer, *, host: str | None = None) -> HttpResponse:
    token = make_handoff_token(user=request.user, customer=customer)
    path = reverse("handoff", args=[token], urlconf=settings.ROOT_URLCONF)  # a workspace host's URL
    return redirect(workspace_url(request, customer, path, host=host))


# A workspace host, outside the dashboard


@require_GET
def handoff(request: HttpRequest, token: str) -> HttpResponse:
    """Log in whoever the public host sent here with a fresh token, then show them the dashboard."""
    if on_public_host(request):
        raise Http404("No such page.")
    user = use_handoff_token(token, customer=request.tenant)
    if user is None:
        messages.error(request, "That log-in link has expired or was used already. Please log in.")
        return redirect("account_login")
    if password_refused(request.tenant, user):
        # A log-in on the public host is a password's: this workspace wants its own provider's.
        messages.info(request, "This workspace's members log in with its single sign-on.")
        return redirect("account_login")
    login(request, user, backend=SESSION_BACKEND)
    return redirect("scans:dashboard")


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    if on_public_host(request):
        raise Http404("No such page.")
    invitation = Invitation.from_token(token, customer=request.tenant)
    if invitation is None and (accepted := Invitation.accepted_from_token(token, customer=request.tenant)):
        return render(request, "accounts/invitation_accepted.html", {"invitation": accepted})
    if invitation is None or not invitation.issuer_may_grant():
        return render(request, "accounts/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        # Remember the invitation through sign-up or log-in; the link came by e-mail,
        # so the address is proved and sign-up needs no second verification.
        request.session[INVITATION_SESSION_KEY] = token
        get_adapter(request).stash_verified_email(request, invitation.email)
        known = User.objects.filter(email__iexact=invitation.email).exists()
        return redirect("account_login" if known else "account_signup")
    if request.user.email.lower() != invitation.email.lower():
        return render(request, "accounts/invitation_other_user.html", {"invitation": invitation}, status=403)
    if request.method == "POST":
        try:
            invitation.accept(request.user)
        except ValidationError:  # its sender lost the power to grant its role a moment ago
            return render(request, "accounts/invitation_invalid.html", status=404)
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, f"Welcome to {invitation.customer.name}.")
        return redirect("scans:dashboard")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


# The dashboard: team, API keys, settings


def _team_page(request: HttpRequest, form: InvitationForm | None = None, status: int = 200) -> HttpResponse:
    customer = request.tenant
    actor = request.membership.role
    members = list(Membership.objects.filter(customer=customer).select_related("user").order_by("user__email"))
    for member in members:
        member.manageable = may_manage(actor, member.role)  # an admin sees owners, but can't touch them
    invitations = list(Invitation.objects.filter(customer=customer, accepted_at__isnull=True).order_by("email"))
    for invitation in invitations:
        invitation.resendable = may_grant(actor, invitation.role)
    context = {
        "section": "team",
        "members": members,
        "invitations": invitations,
        "form": form or InvitationForm(customer=customer, inviter_role=actor),
        "roles": grantable_roles(actor),
    }
    return render(request, "accounts/team.html", context, status=status)


@member_required("manage_members")
@require_safe
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@member_required("manage_members")
@require_POST
def invitation_create(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST, customer=request.tenant, inviter_role=request.membership.role)
    if not form.is_valid():
        return _team_page(request, form, status=400)
    if not ratelimit.consume(request, action="invite_member", user=request.user):
        form.add_error(None, ValidationError("You have sent many invitations; try again later.", code="rate_limited"))
        return _team_page(request, form, status=429)
    invitation = Invitation.objects.create(
        customer=request.tenant,
        email=form.cleaned_data["email"],
        role=form.cleaned_data["role"],
        invited_by=request.user,
    )
    _send_invitation(request, invitation)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("accounts:team")


@member_required("manage_members")
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _get_invitation(request, pk)
    if not may_grant(request.membership.role, invitation.role):
        messages.error(request, "Only an owner can send an invitation to become an owner.")
        return redirect("accounts:team")
    invitation.resend(by=request.user)
    _send_invitation(request, invitation)
    messages.success(request, f"Invitation sent to {invitation.email} again; earlier links no longer work.")
    return redirect("accounts:team")


@member_required("manage_members")
@require_POST
def invitation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _get_invitation(request, pk)
    invitation.delete()
    messages.success(request, f"Invitation to {invitation.email} cancelled.")
    return redirect("accounts:team")


@member_required("manage_members")
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    # Only an owner may make or unmake owners, or an admin could take the workspace over:
    # the form offers, and so accepts, only the roles this member may give.
    if not may_manage(request.membership.role, member.role):
        messages.error(request, "Only an owner can change who is an owner.")
        return redirect("accounts:team")
    form = RoleForm(request.POST, actor_role=request.membership.role)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles you may give.")
        return redirect("accounts:team")
    try:
        member.change_role(form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{member.user.email} is now {member.get_role_display().lower()}.")
    return redirect("accounts:team")


@member_required("manage_members")
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member(request, pk)
    if not may_manage(request.membership.role, member.role):
        messages.error(request, "Only an owner can remove an owner.")
        return redirect("accounts:team")
    try:
        member.remove()
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{member.user.email} no longer has access.")
    return redirect("accounts:team")


def _api_keys_page(request: HttpRequest, form: ApiKeyForm | None = None, **extra) -> HttpResponse:
    context = {
        "section": "api-keys",
        "keys": ApiKey.objects.filter(customer=request.tenant).order_by("revoked_at", "-created_at"),
        "form": form or ApiKeyForm(),
        **extra,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "accounts/api_keys.html", context, status=status)


@member_required("manage_api_keys")
@require_safe
def api_key_list(request: HttpRequest) -> HttpResponse:
    return _api_keys_page(request)


@member_required("manage_api_keys")
@require_POST
def api_key_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _api_keys_page(request, form)
    key, secret = ApiKey.objects.create_key(
        customer=request.tenant,
        name=form.cleaned_data["name"],
        scope=form.cleaned_data["scope"],
        created_by=request.user,
    )
    # Rendered, not redirected: the secret must not be put anywhere it could be shown twice.
    response = _api_keys_page(request, new_key=key, secret=secret)
    response["Cache-Control"] = "no-store"
    return response


@member_required("manage_api_keys")
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk, customer=request.tenant, revoked_at__isnull=True)
    key.revoke()
    messages.success(request, f"Key “{key.name}” revoked; programs using it are now refused.")
    return redirect("accounts:api-key-list")


def _settings_page(
    request: HttpRequest,
    *,
    form: WorkspaceSettingsForm | None = None,
    domain_form: DomainForm | None = None,
    status: int = 200,
) -> HttpResponse:
    customer = Customer.objects.get(pk=request.tenant.pk)
    domains = list(customer.domains.annotate(printed=Count("printed_cards")).order_by("is_custom", "created_at"))
    # "Open the dashboard there" redirects to the workspace's verified domains.
    _allow_forms_to(request, *(domain.domain for domain in domains if domain.is_custom and domain.is_served))
    context = {
        "section": "settings",
        "form": form or WorkspaceSettingsForm(instance=customer),
        "domain_form": domain_form or DomainForm(customer=customer),
        "domains": domains,
        "own_host": customer.own_host,
    }
    return render(request, "accounts/settings.html", context, status=status)


@member_required("change_settings")
@require_http_methods(["GET", "HEAD", "POST"])
def workspace_settings(request: HttpRequest) -> HttpResponse:
    customer = Customer.objects.get(pk=request.tenant.pk)
    form = WorkspaceSettingsForm(request.POST or None, request.FILES or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("accounts:settings")
    return _settings_page(request, form=form, status=400 if form.errors else 200)


# Custom domains (on the settings page)


def _get_domain(request: HttpRequest, pk: int, *, custom: bool = True) -> Domain:
    """One of this workspace's domains (only its custom ones unless `custom` is False)."""
    domains = Domain.objects.filter(tenant_id=request.tenant.pk)
    return get_object_or_404(domains.filter(is_custom=True) if custom else domains, pk=pk)


def _to_domain(domain: Domain) -> HttpResponse:
    return redirect(f"{reverse('accounts:settings')}#domain-{domain.pk}")


@member_required("change_settings")
@require_POST
def domain_create(request: HttpRequest) -> HttpResponse:
    form = DomainForm(request.POST, customer=request.tenant)
    if form.is_valid():
        try:
            domain = add_domain(customer=request.tenant, name=form.cleaned_data["domain"])
        except ValidationError as error:  # another workspace added it a moment ago
            form.add_error("domain", error)
        else:
            messages.success(
                request, f"Added {domain.display_name}. Create the two DNS records shown below, then press Verify."
            )
            return _to_domain(domain)
    return _settings_page(request, domain_form=form, status=400)


@member_required("change_settings")
@require_POST
def domain_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """Look the domain's records up now (the hourly check does the same by itself)."""
    domain = _get_domain(request, pk)
    if not ratelimit.consume(request, action="verify_domain", user=request.user):
        messages.error(request, "You have asked to verify many times; the hourly check goes on, or try in a minute.")
        return _to_domain(domain)
    findings, _ = verify(domain)
    domain.refresh_from_db()
    name = domain.display_name
    if findings.proof is Proof.UNKNOWN:
        messages.error(request, f"DNS didn't answer about {name}; nothing changed. Try again in a minute.")
    elif domain.status == "verified":
        lead = "" if findings.points_here else f" {findings.note}"
        messages.success(request, f"{name} is verified: it serves this workspace's pages.{lead}")
    elif domain.status == "proof-missing":
        messages.error(
            request,
            f"{name}'s proof is gone: {findings.note} It stops working on "
            f"{domain.stops_serving_at:%-d %B %Y} unless the TXT record is back.",
        )
    else:
        messages.error(
            request, f"{name} isn't verified yet. {findings.note} DNS changes can take a few minutes to show."
        )
    return _to_domain(domain)


@member_required("change_settings")
@require_POST
def domain_primary(request: HttpRequest, pk: int) -> HttpResponse:
    """Print the workspace's cards (and send its e-mailed links) with this domain; cards printed before keep theirs."""
    domain = _get_domain(request, pk, custom=False)
    try:
        domain.make_primary()
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            f"Cards print with {domain.display_name} from now on. Cards printed with another domain keep working.",
        )
    return _to_domain(domain)


@member_required("change_settings")
@require_http_methods(["GET", "HEAD", "POST"])
def domain_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a custom domain; one that printed cards only once its name is typed, knowing how many cards it strands."""
    domain = _get_domain(request, pk, custom=False)
    try:
        domain.check_removable()
    except DomainInUse as error:
        messages.error(request, error.messages[0])
        return _to_domain(domain)
    printed = domain.printed_cards.count()
    form = DomainRemoveForm(request.POST if request.method == "POST" else None, domain=domain, printed=printed)
    if request.method == "POST" and form.is_valid():
        try:
            domain.remove()
        except DomainInUse as error:  # made the card domain a moment ago
            messages.error(request, error.messages[0])
            return _to_domain(domain)
        stranded = f" The {printed} cards printed with it no longer lead anywhere." if printed else ""
        messages.success(request, f"Removed {domain.display_name}.{stranded}")
        return redirect("accounts:settings")
    context = {"section": "settings", "domain": domain, "printed": printed, "form": form}
    if printed:
        context["first"], context["last"] = domain.printed_cards.aggregate(
            first=Min("first_printed_at"), last=Max("last_printed_at")
        ).values()
    return render(request, "accounts/domain_remove.html", context, status=400 if form.errors else 200)


@member_required("change_settings")
@require_POST
def domain_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Log in on a verified domain of this workspace (sessions keep to their host), by a hand-over."""
    domain = _get_domain(request, pk)
    if not domain.is_served:
        raise Http404("Not verified.")
    return _hand_off(request, request.tenant, host=domain.domain)


# Webhooks (under Settings): the endpoints, and each one's page with its delivery log


def _get_endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk, customer_id=request.tenant.pk)


def _to_endpoint(endpoint: WebhookEndpoint) -> HttpResponse:
    return redirect("accounts:webhook-detail", pk=endpoint.pk)


@member_required("change_settings")
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None, customer=request.tenant)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save()
        messages.success(request, "Endpoint added. Reveal its signing secret below to verify our signatures.")
        return _to_endpoint(endpoint)
    context = {
        "section": "settings",
        "endpoints": WebhookEndpoint.objects.filter(customer_id=request.tenant.pk).order_by("created_at", "pk"),
        "form": form,
    }
    return render(request, "accounts/webhooks.html", context, status=400 if form.errors else 200)


@member_required("change_settings")
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An endpoint's settings and its delivery log (only the log, for htmx's Refresh)."""
    endpoint = _get_endpoint(request, pk)
    form = WebhookEndpointForm(
        request.POST if request.method == "POST" else None, instance=endpoint, customer=request.tenant
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Endpoint saved.")
        return _to_endpoint(endpoint)
    context = {"section": "settings", "endpoint": endpoint, "form": form, "deliveries": deliveries_for(endpoint)}
    if request.htmx and request.method == "GET":
        return render(request, "accounts/_webhooks_deliveries.html", context)
    return render(request, "accounts/webhooks_endpoint.html", context, status=400 if form.errors else 200)


@member_required("change_settings")
@require_POST
def webhook_secret(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the signing secret (a POST, so it is never in a URL, a history or a cache); `rotate` makes a new one."""
    endpoint = _get_endpoint(request, pk)
    if request.POST.get("rotate"):
        endpoint.rotate_secret()
        messages.success(request, "New signing secret made: the old one no longer signs anything.")
    context = {"section": "settings", "endpoint": endpoint, "revealed": True}
    if request.htmx:
        response = render(request, "accounts/_webhooks_secret.html", context)
    else:
        form = WebhookEndpointForm(instance=endpoint, customer=request.tenant)
        context |= {"form": form, "deliveries": deliveries_for(endpoint)}
        response = render(request, "accounts/webhooks_endpoint.html", context)
    response["Cache-Control"] = "no-store"
    return response


@member_required("change_settings")
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    if not endpoint.is_active:
        messages.error(request, "Enable the endpoint first: nothing is sent to a disabled one.")
    else:
        send_test_event(endpoint)
        messages.success(request, "A test event is on its way: it shows in the log below within a few seconds.")
    return _to_endpoint(endpoint)


@member_required("change_settings")
@require_POST
def webhook_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint=endpoint)
    redeliver(delivery)
    messages.success(request, f"{delivery.event.type} will be sent again, with the same webhook-id.")
    return _to_endpoint(endpoint)


@member_required("change_settings")
@require_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    endpoint.enable()
    messages.success(request, "Endpoint enabled: waiting events are sent now.")
    return _to_endpoint(endpoint)


@member_required("change_settings")
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _get_endpoint(request, pk)
    endpoint.delete()
    messages.success(request, f"Endpoint {endpoint.url} removed; nothing more is sent to it.")
    return redirect("accounts:webhook-list")


LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@require_safe
def workspace_logo(request: HttpRequest) -> HttpResponse:
    """The workspace's logo, served from its own host only; the URL changes with the file, so it is cached for good.

    Its Content-Type is that of what the file holds, as Pillow reads it, never one guessed from its name.
    """
    logo = request.tenant.logo
    if not logo:
        raise Http404("No logo.")
    try:
        handle = logo.open("rb")
    except FileNotFoundError:
        raise Http404("No logo.") from None
    content_type = _image_type(handle)
    if content_type is None:
        handle.close()
        raise Http404("No logo.")
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _image_type(handle) -> str | None:
    """The Content-Type of the image in `handle` (left at its start), or None if it isn't a logo format."""
    try:
        with Image.open(handle) as image:  # reads the header only
            content_type = LOGO_TYPES.get(image.format)
    except (UnidentifiedImageError, OSError):
        content_type = None
    handle.seek(0)
    return content_type


@require_http_methods(["GET", "POST"])
@member_required("delete_workspace")
def workspace_delete(request: HttpRequest) -> HttpResponse:
    """The owner deletes the whole workspace: its schema is dropped and its hosts answer 404 from then on."""
    workspace = Customer.objects.get(pk=request.tenant.pk)
    form = WorkspaceDeleteForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        workspaces = public_url(request, reverse("workspace-list", urlconf="qrcards.urls_public"))
        log.info("workspace %s deleted by %s", workspace.schema_name, request.user.email)
        workspace.delete_workspace()
        return redirect(workspaces)
    status = 400 if form.errors else 200
    context = {"section": "settings", "form": form, "workspace": workspace}
    return render(request, "accounts/workspace_delete.html", context, status=status)


# Single sign-on (accounts/sso.py)


def _sso_page(request: HttpRequest, form: SingleSignOnForm, sso: SingleSignOn | None, status: int = 200):
    provider_id = SingleSignOn(customer=request.tenant).provider_id
    callback = reverse("openid_connect_callback", kwargs={"provider_id": provider_id})
    context = {"section": "settings", "form": form, "sso": sso, "callback_url": request.build_absolute_uri(callback)}
    return render(request, "accounts/sso.html", context, status=status)


@member_required("configure_sso")
@require_http_methods(["GET", "HEAD", "POST"])
def sso_settings(request: HttpRequest) -> HttpResponse:
    sso = SingleSignOn.objects.filter(customer_id=request.tenant.pk).first()
    form = SingleSignOnForm(request.POST or None, instance=sso, customer=request.tenant)
    if request.method == "POST" and form.is_valid():
        form.save()
        log.info("single sign-on of %s changed by %s", request.tenant.schema_name, request.user.email)
        messages.success(request, "Single sign-on saved.")
        return redirect("accounts:sso")
    return _sso_page(request, form, sso, status=400 if form.errors else 200)


@member_required("configure_sso")
@require_POST
def sso_remove(request: HttpRequest) -> HttpResponse:
    """Forget the provider and every account linked through it; members log in with their passwords again."""
    sso = SingleSignOn.objects.filter(customer_id=request.tenant.pk).first()
    if sso is not None:  # removing what is already gone is done
        sso.delete()
        log.info("single sign-on of %s removed by %s", request.tenant.schema_name, request.user.email)
    messages.success(request, "Single sign-on removed: members log in with their passwords (or a code by e-mail).")
    return redirect("accounts:sso")


@require_http_methods(["GET", "POST"])
def sso_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """A workspace provider's button: allauth's view (a POST sends the browser to the provider), rate-limited,
    since each press may make us ask the provider for its configuration."""
    from allauth.socialaccount.providers.oauth2.views import OAuth2LoginView

    if request.method == "POST" and (refused := ratelimit.consume_or_429(request, action="sso_login")):
        return refused
    try:
        return OAuth2LoginView.adapter_view(WorkspaceOIDCAdapter(request, provider_id))(request)
    except (RequestException, ValueError, KeyError) as error:  # no answer, or no discovery document in it
        sso = workspace_sso(request)
        log.warning("single sign-on of %s: its provider's configuration: %r", request.tenant.schema_name, error)
        return refuse(request, f"{sso.name} did not answer. Try again in a moment.", status=502)


@require_http_methods(["GET", "POST"])
def sso_callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Where a workspace's provider sends people back: allauth's view, with the ID token checked strictly."""
    from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView

    return OAuth2CallbackView.adapter_view(WorkspaceOIDCAdapter(request, provider_id))(request)
