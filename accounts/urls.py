"""The dashboard's account pages, mounted at /dashboard/ on workspace hosts."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("team/", views.team, name="team"),
    path("team/invitations/", views.invitation_create, name="invitation-create"),
    path("team/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation-resend"),
    path("team/invitations/<int:pk>/cancel/", views.invitation_cancel, name="invitation-cancel"),
    path("team/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("team/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("api-keys/", views.api_key_list, name="api-key-list"),
    path("api-keys/new/", views.api_key_create, name="api-key-create"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("settings/", views.workspace_settings, name="settings"),
    path("settings/delete/", views.workspace_delete, name="workspace-delete"),
    path("settings/domains/", views.domain_create, name="domain-create"),
    path("settings/domains/<int:pk>/verify/", views.domain_verify, name="domain-verify"),
    path("settings/domains/<int:pk>/primary/", views.domain_primary, name="domain-primary"),
    path("settings/domains/<int:pk>/remove/", views.domain_remove, name="domain-remove"),
    path("settings/domains/<int:pk>/open/", views.domain_open, name="domain-open"),
    path("settings/webhooks/", views.webhook_list, name="webhook-list"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("settings/webhooks/<int:pk>/secret/", views.webhook_secret, name="webhook-secret"),
    path("settings/webhooks/<int:pk>/test/", views.webhook_test, name="webhook-test"),
    path("settings/webhooks/<int:pk>/enable/", views.webhook_enable, name="webhook-enable"),
    path("settings/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.webhook_redeliver,
        name="webhook-redeliver",
    ),
    path("settings/sso/", views.sso_settings, name="sso"),
    path("settings/sso/remove/", views.sso_remove, name="sso-remove"),
]
