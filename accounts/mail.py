"""E-mail through an outbox: requests write messages to a table, the worker sends them.

EMAIL_BACKEND is OutboxBackend everywhere a worker runs (make run and production), so a slow or
unreachable mail server never holds a web worker; EMAIL_DELIVERY_BACKEND (from EMAIL_URL: SMTP, or
the console in development) is what the worker hands them to.
"""

from __future__ import annotations

import logging
import pickle

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.db import transaction

from accounts.models import OutgoingEmail

logger = logging.getLogger(__name__)
BATCH = 50


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        rows = []
        for message in email_messages:
            message.connection = None  # it is the worker's to choose, and a connection doesn't pickle
            rows.append(
                OutgoingEmail(
                    message=pickle.dumps(message),
                    recipients=", ".join(message.recipients())[:1000],
                    subject=str(message.subject)[:255],
                )
            )
        OutgoingEmail.objects.bulk_create(rows)
        return len(rows)


def send_queued_emails(*, limit: int = BATCH) -> int:
    """Send the e-mails that are due; returns how many went. Several workers may run it at once."""
    sent = 0
    with transaction.atomic():
        # Each worker takes rows no other has locked, so no e-mail is sent twice at the same time.
        due = list(
            OutgoingEmail.objects.due().order_by("next_attempt_at", "pk").select_for_update(skip_locked=True)[:limit]
        )
        if not due:
            return 0
        connection = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)
        try:
            connection.open()
        except Exception as error:  # the mail server is away: every one waits for its next try
            logger.warning("could not reach the mail server (%s); %d e-mails wait", error, len(due))
            for email in due:
                email.failed(error)
            return 0
        try:
            for email in due:
                try:
                    message = pickle.loads(email.message)  # noqa: S301 - written by OutboxBackend, read by us
                    message.connection = connection
                    message.send()
                except Exception as error:  # the mail server's refusals are many; each is retried later
                    logger.warning("could not send e-mail %s to %s: %s", email.pk, email.recipients, error)
                    email.failed(error)
                else:
                    email.delete()
                    sent += 1
        finally:
            connection.close()
    return sent
