"""E-mail goes through an outbox: the request writes it, the worker sends it, a mail server's trouble waits."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.mail import OutboxBackend, send_queued_emails
from accounts.models import OutgoingEmail


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = "accounts.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_a_request_only_writes_the_email_and_the_worker_sends_it_once(outbox, db):
    mail.send_mail("Your code", "It is 123456.", "noreply@qrcards.localhost", ["ann@example.com"])

    assert mail.outbox == [] and OutgoingEmail.objects.count() == 1
    assert send_queued_emails() == 1
    assert [(message.subject, message.to) for message in mail.outbox] == [("Your code", ["ann@example.com"])]
    assert not OutgoingEmail.objects.exists()  # the code isn't kept once it has gone
    assert send_queued_emails() == 0


def test_an_email_of_a_request_that_failed_is_never_sent(outbox, db):
    with pytest.raises(RuntimeError), transaction.atomic():
        mail.send_mail("Welcome", "Hi.", "noreply@qrcards.localhost", ["bob@example.com"])
        raise RuntimeError("the invitation was never saved")

    assert send_queued_emails() == 0 and mail.outbox == []


def test_an_unreachable_mail_server_makes_every_email_wait_and_try_again_later(outbox, settings, db, monkeypatch):
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nothing listens on port 1
    OutboxBackend().send_messages([mail.EmailMessage("One", "1", to=["a@example.com"])])

    assert send_queued_emails() == 0

    email = OutgoingEmail.objects.get()
    assert email.attempts == 1 and "ConnectionRefused" in email.last_error
    assert email.next_attempt_at > timezone.now()
    assert send_queued_emails() == 0  # not due again yet
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutgoingEmail.objects.update(next_attempt_at=timezone.now())
    assert send_queued_emails() == 1 and mail.outbox[0].subject == "One"


def test_a_refused_email_backs_off_and_the_others_still_go(outbox, db, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def refuse_carol(self, messages):
        if any("carol@example.com" in message.to for message in messages):
            raise smtplib.SMTPRecipientsRefused({"carol@example.com": (550, b"no such user")})
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_carol)
    for address in ("ann@example.com", "carol@example.com", "dan@example.com"):
        mail.send_mail("Hello", "Hi.", "noreply@qrcards.localhost", [address])

    assert send_queued_emails() == 2

    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.com", "dan@example.com"]
    refused = OutgoingEmail.objects.get()
    assert refused.recipients == "carol@example.com" and refused.attempts == 1
    assert (refused.next_attempt_at - timezone.now()).total_seconds() > 50
