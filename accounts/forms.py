from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.domains import MAX_CUSTOM_DOMAINS, DomainTaken, normalise_domain
from accounts.models import (
    LOGO_EXTENSIONS,
    ApiKey,
    Customer,
    Domain,
    Invitation,
    Membership,
    SingleSignOn,
    WebhookEndpoint,
)
from accounts.roles import grantable_roles
from accounts.webhooks import check_room, check_url, clean_events
from lib.colours import contrast_ratio

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# Hosts we use, or may one day, and names that invite impersonation.
RESERVED_SLUGS = frozenset(
    {
        "www", "admin", "api", "app", "static", "media", "mail", "email", "smtp", "imap", "pop", "ftp",
        "dashboard", "accounts", "account", "login", "signup", "auth", "help", "support", "status",
        "docs", "blog", "billing", "cdn", "assets", "dev", "staging", "test", "demo", "public", "qrcards",
        "root", "system", "security", "abuse", "postmaster", "webmaster", "hostmaster",
    }
)  # fmt: skip


SLUG_RULES = (
    "An address has 3 to 30 characters: lower-case letters, digits and hyphens, "
    "starting and ending with a letter or digit."
)


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Shown on your dashboard and scanner pages.")
    slug = forms.CharField(
        label="Address",
        min_length=3,
        max_length=30,
        help_text="3 to 30 lower-case letters, digits and hyphens: your workspace's web address.",
        # Every message names every rule: a person fixing one mistake shouldn't walk into the next.
        error_messages={
            "required": f"Choose an address. {SLUG_RULES}",
            "min_length": f"Too short: use at least 3 characters. {SLUG_RULES}",
            "max_length": f"Too long: use at most 30 characters. {SLUG_RULES}",
        },
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give your workspace a name.", code="required")
        return name

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip()
        if slug != slug.lower():
            raise forms.ValidationError(f"Use lower-case letters only. {SLUG_RULES}", code="uppercase")
        if not SLUG_RE.match(slug):
            raise forms.ValidationError(f"That address has characters it can't use. {SLUG_RULES}", code="invalid")
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError("That address is reserved; choose another.", code="reserved")
        if Customer.objects.filter(schema_name__iexact=slug).exists():
            raise forms.ValidationError("That address is taken; choose another.", code="taken")
        return slug


class FindWorkspacesForm(forms.Form):
    email = forms.EmailField(label="Your e-mail address")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.EDITOR)

    def __init__(self, *args, customer: Customer, inviter_role: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        # Only the roles the inviter may give are offered, and so accepted: "owner" for owners only.
        self.fields["role"].choices = grantable_roles(inviter_role)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(customer=self.customer, user__email__iexact=email).exists():
            raise forms.ValidationError("This person is already a member.", code="member")
        if Invitation.objects.filter(customer=self.customer, email__iexact=email, accepted_at__isnull=True).exists():
            raise forms.ValidationError("This address has an open invitation: resend it below.", code="invited")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def __init__(self, *args, actor_role: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(actor_role)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, so you know which to revoke.")
    scope = forms.ChoiceField(choices=ApiKey.Scope.choices, initial=ApiKey.Scope.READ)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name.", code="required")
        return name


class WorkspaceSettingsForm(forms.ModelForm):
    MAX_LOGO_BYTES = 1024 * 1024
    MAX_LOGO_SIDE = 2000
    LOGO_FORMATS = set(LOGO_EXTENSIONS)
    # Scanner pages' light backgrounds; the accent must read as text on them (WCAG AA).
    LIGHT_BACKGROUNDS = ("#fffdf8", "#ffffff")
    # "museum.example" typed without a scheme means its https address.
    website = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=Customer._meta.get_field("website").max_length,
        validators=Customer._meta.get_field("website").validators,
        help_text=Customer._meta.get_field("website").help_text,
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "accent_colour",
            "logo",
            "website",
            "time_zone",
            "scan_retention_days",
            "record_country",
            "record_referrer",
            "api_requests_per_minute",
        ]
        widgets = {"accent_colour": forms.TextInput(attrs={"placeholder": "#8a3b12", "size": 8})}
        labels = {"api_requests_per_minute": "API requests a minute, per key"}

    def clean_accent_colour(self) -> str:
        colour = self.cleaned_data["accent_colour"].strip().lower()
        if colour and re.fullmatch(r"#[0-9a-f]{6}", colour):
            ratio = min(contrast_ratio(colour, background) for background in self.LIGHT_BACKGROUNDS)
            if ratio < 4.5:
                raise forms.ValidationError(
                    f"This colour is too light to read as text on a white page ({ratio:.1f}:1; 4.5:1 is needed).",
                    code="low_contrast",
                )
        return colour

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        image = getattr(logo, "image", None)  # set only for a new upload, which ImageField has opened with Pillow
        if image is None:
            return logo
        if logo.size > self.MAX_LOGO_BYTES:
            raise forms.ValidationError("The logo must be at most 1 MB.", code="too_large")
        if image.format not in self.LOGO_FORMATS:
            raise forms.ValidationError("The logo must be a PNG, JPEG or WebP image.", code="bad_format")
        if max(image.size) > self.MAX_LOGO_SIDE:
            raise forms.ValidationError(
                f"The logo must be at most {self.MAX_LOGO_SIDE} pixels on each side.", code="too_big"
            )
        # Stored under the extension of what it is, not of what it was called ("poly.pdf" holding a PNG).
        logo.name = f"logo.{LOGO_EXTENSIONS[image.format]}"
        return logo


class WorkspaceDeleteForm(forms.Form):
    """Deleting a workspace can't be undone, so the owner types its slug to say they mean it."""

    confirm = forms.CharField(label="Type the workspace's address name to confirm", max_length=63)

    def __init__(self, *args, workspace: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.workspace.schema_name:
            raise forms.ValidationError(
                f"That isn't “{self.workspace.schema_name}”; nothing was deleted.", code="mismatch"
            )
        return value


class DomainForm(forms.Form):
    domain = forms.CharField(
        label="Your domain",
        max_length=300,
        help_text="A domain (or subdomain) whose DNS you manage, e.g. trails.museum.org.",
        error_messages={"required": "Type the domain, e.g. trails.museum.org."},
        widget=forms.TextInput(
            attrs={"placeholder": "trails.museum.org", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_domain(self) -> str:
        name = normalise_domain(self.cleaned_data["domain"])
        if Domain.objects.filter(tenant=self.customer, domain=name).exists():
            raise forms.ValidationError("This workspace has that domain already.", code="added")
        if Domain.objects.filter(domain=name).exists():
            raise DomainTaken()
        if Domain.objects.filter(tenant=self.customer, is_custom=True).count() >= MAX_CUSTOM_DOMAINS:
            raise forms.ValidationError(
                f"A workspace can have {MAX_CUSTOM_DOMAINS} domains of its own: remove one first.", code="too_many"
            )
        return name


class DomainRemoveForm(forms.Form):
    """Removing a domain that printed cards leaves those cards pointing nowhere, so it is typed out to confirm."""

    confirm = forms.CharField(label="Type the domain to confirm", max_length=300, required=False)

    def __init__(self, *args, domain: Domain, printed: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.domain = domain
        self.printed = printed

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().lower().removesuffix(".")
        if self.printed and value not in (self.domain.domain, self.domain.display_name.lower()):
            raise forms.ValidationError(
                f"That isn't “{self.domain.display_name}”; nothing was removed.", code="mismatch"
            )
        return value


class WebhookEndpointForm(forms.ModelForm):
    """An endpoint's URL (checked as deliveries will be: https, a public host), description and events."""

    url = forms.CharField(
        label="URL", max_length=2000, help_text="Where we POST the events, e.g. https://example.com/hooks/qrcards."
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events"]

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        check_url(url)  # raises UnsafeUrl, a ValidationError with the reason
        return url

    def clean_events(self) -> list[str]:
        return clean_events(self.cleaned_data["events"])

    def clean(self) -> dict:
        if self.instance.pk is None:
            check_room(self.customer)
        return super().clean()

    def save(self, commit: bool = True) -> WebhookEndpoint:
        self.instance.customer = self.customer
        return super().save(commit=commit)


class SingleSignOnForm(forms.ModelForm):
    """The workspace's own OpenID Connect provider. The client secret is never shown back: left empty, it is kept."""

    MAX_DOMAINS = 20

    client_secret = forms.CharField(
        max_length=1000,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="From your provider's client settings.",
    )

    class Meta:
        model = SingleSignOn
        fields = ["name", "issuer_url", "client_id", "client_secret", "allowed_domains", "join_role", "required"]

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.customer = customer
        if self.instance.pk:
            self.fields[
                "client_secret"
            ].help_text = f"Stored ({self.instance.secret_hint}). Leave empty to keep it; type a new one to replace it."

    def clean_issuer_url(self) -> str:
        url = self.cleaned_data["issuer_url"].strip()
        parts = urlsplit(url)
        if parts.scheme != "https" and not settings.SSO_ALLOW_LOCAL_ISSUERS:
            raise ValidationError("The issuer URL must start with https://.", code="not_https")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValidationError("Type the issuer URL only, without ?, # or a password.", code="invalid_issuer")
        return url.rstrip("/")

    def clean_client_secret(self) -> str:
        secret = self.cleaned_data["client_secret"]
        if not secret:
            if self.instance.pk:
                return self.instance.client_secret
            raise ValidationError("Type the client secret your provider gave you.", code="required")
        return secret

    def clean_allowed_domains(self) -> str:
        from accounts.domains import normalise_domain

        names = self.cleaned_data["allowed_domains"].replace(",", " ").split()
        if len(names) > self.MAX_DOMAINS:
            raise ValidationError(f"At most {self.MAX_DOMAINS} domains.", code="too_many_domains")
        domains = []
        for name in names:
            try:
                domains.append(normalise_domain(name.removeprefix("@")))
            except ValidationError as error:
                raise ValidationError(f"{name[:100]}: {error.messages[0]}", code="invalid_domain") from None
        return " ".join(dict.fromkeys(domains))
