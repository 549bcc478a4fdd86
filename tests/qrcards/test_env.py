from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from qrcards.env import env_bool, env_int, env_list


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("Yes", True), ("off", False), ("0", False)]
)
def test_a_yes_or_no_setting_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("QRCARDS_TEST_FLAG", raw)

    assert env_bool("QRCARDS_TEST_FLAG") is expected


def test_a_yes_or_no_setting_refuses_anything_else_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG")


def test_a_number_setting_refuses_words_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("CONN_MAX_AGE", "ten minutes")

    with pytest.raises(ImproperlyConfigured, match="CONN_MAX_AGE"):
        env_int("CONN_MAX_AGE", 600)


def test_unset_settings_take_their_defaults(monkeypatch):
    monkeypatch.delenv("QRCARDS_TEST_UNSET", raising=False)

    assert env_int("QRCARDS_TEST_UNSET", 7) == 7
    assert env_bool("QRCARDS_TEST_UNSET", True) is True
    assert env_list("QRCARDS_TEST_UNSET", ["a"]) == ["a"]


def test_a_list_setting_splits_on_commas(monkeypatch):
    monkeypatch.setenv("QRCARDS_TEST_LIST", " a.example, b.example ,,")

    assert env_list("QRCARDS_TEST_LIST") == ["a.example", "b.example"]


def test_a_bad_email_url_stops_the_settings_with_a_message(monkeypatch):
    from qrcards.settings import _email_url

    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        _email_url("http://mail.example.com")
    smtp = _email_url("smtp://me%40example.com:s3cret@smtp.example.com:2525?tls=0")
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.tls) == (
        "smtp.example.com",
        2525,
        "me@example.com",
        "s3cret",
        False,
    )
