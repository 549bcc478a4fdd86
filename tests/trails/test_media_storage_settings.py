"""Media storage chosen by environment variables (qrcards/settings.py): the local disk, or an S3-compatible bucket."""

from __future__ import annotations

from tests.qrcards.test_production_settings import PRODUCTION, manage, run, settings_of

BUCKET = {
    "MEDIA_S3_BUCKET": "qrcards-media",
    "MEDIA_S3_ENDPOINT_URL": "https://account.r2.cloudflarestorage.com",
    "MEDIA_S3_REGION": "auto",
    "MEDIA_S3_ACCESS_KEY_ID": "key-id",
    "MEDIA_S3_SECRET_ACCESS_KEY": "secret",
}


def test_files_go_to_the_local_disk_by_default():
    found = settings_of({}, "STORAGES")

    assert found["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_is_used_with_signed_urls_and_immutable_caching():
    options = settings_of(BUCKET, "STORAGES")["STORAGES"]["default"]["OPTIONS"]

    assert settings_of(BUCKET, "STORAGES")["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "qrcards-media"
    assert options["endpoint_url"] == "https://account.r2.cloudflarestorage.com"
    assert (options["region_name"], options["access_key"], options["secret_key"]) == ("auto", "key-id", "secret")
    assert options["querystring_auth"] is True and options["querystring_expire"] == 3600
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["object_parameters"] == {"CacheControl": "public, max-age=31536000, immutable"}


def test_a_public_base_url_serves_unsigned_from_there():
    env = BUCKET | {"MEDIA_PUBLIC_BASE_URL": "https://media.example.com/"}

    options = settings_of(env, "STORAGES")["STORAGES"]["default"]["OPTIONS"]

    assert (options["querystring_auth"], options["custom_domain"], options["url_protocol"]) == (
        False,
        "media.example.com",
        "https:",
    )


def test_one_key_without_the_other_or_a_bad_public_url_stops_the_process_naming_it():
    half = {k: v for k, v in BUCKET.items() if k != "MEDIA_S3_SECRET_ACCESS_KEY"}
    bad_url = BUCKET | {"MEDIA_PUBLIC_BASE_URL": "media.example.com"}
    code = "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'qrcards.settings'; import qrcards.settings"

    for env, name in ((half, "MEDIA_S3_SECRET_ACCESS_KEY"), (bad_url, "MEDIA_PUBLIC_BASE_URL")):
        result = run(code, env)
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and name in result.stderr.strip().splitlines()[-1]


def test_check_deploy_stays_clean_with_a_bucket():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION | BUCKET)

    assert result.returncode == 0, result.stderr
