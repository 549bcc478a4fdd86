from django.urls import path, re_path

from trails import views

app_name = "trails"

urlpatterns = [
    path("", views.stop_finder, name="stop-finder"),
    path("qr/<str:token>", views.stop_page, name="stop-page"),
    # QR codes carry the whole URL in upper case (alphanumeric mode: a smaller code).
    re_path(r"^QR/(?P<token>[^/]+)$", views.stop_page),
    path("media/<str:key>/<str:file>", views.media_file, name="media-file"),
    path("dashboard/trails/", views.trail_list, name="trail-list"),
    path("dashboard/trails/new", views.trail_create, name="trail-create"),
    path("dashboard/trails/preview", views.trail_preview, name="trail-preview"),
    path("dashboard/trails/<int:pk>/", views.trail_edit, name="trail-edit"),
    path("dashboard/trails/<int:pk>/publish", views.trail_publish, name="trail-publish"),
    path("dashboard/trails/<int:pk>/unpublish", views.trail_unpublish, name="trail-unpublish"),
    path("dashboard/trails/<int:pk>/archive", views.trail_archive, name="trail-archive"),
    path("dashboard/trails/<int:pk>/duplicate", views.trail_duplicate, name="trail-duplicate"),
    path("dashboard/trails/<int:pk>/delete", views.trail_delete, name="trail-delete"),
    path("dashboard/trails/<int:pk>/languages/new", views.translation_pick, name="translation-pick"),
    path("dashboard/trails/<int:pk>/languages/<str:language>/", views.translation_edit, name="translation-edit"),
    path(
        "dashboard/trails/<int:pk>/languages/<str:language>/preview",
        views.translation_preview,
        name="translation-preview",
    ),
    path(
        "dashboard/trails/<int:pk>/languages/<str:language>/delete",
        views.translation_delete,
        name="translation-delete",
    ),
    path("dashboard/trails/<int:pk>/cards/", views.trail_cards, name="trail-cards"),
    path("dashboard/trails/<int:pk>/cards/print", views.trail_print, name="trail-print"),
    path("dashboard/trails/<int:pk>/cards.pdf", views.trail_cards_pdf, name="trail-cards-pdf"),
    re_path(
        r"^dashboard/trails/(?P<pk>\d+)/stops/(?P<stop_pk>\d+)/qr\.(?P<fmt>svg|png)$", views.stop_qr, name="stop-qr"
    ),
    path("dashboard/media/", views.media_library, name="media-library"),
    path("dashboard/media/upload", views.media_upload, name="media-upload"),
    path("dashboard/media/<int:pk>/", views.media_detail, name="media-detail"),
    path("dashboard/media/<int:pk>/rename", views.media_rename, name="media-rename"),
    path("dashboard/media/<int:pk>/replace", views.media_replace, name="media-replace"),
    path("dashboard/media/<int:pk>/delete", views.media_delete, name="media-delete"),
]
