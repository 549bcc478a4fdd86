"""While the database is away the API answers 503 in its own shape, and logs the outage once."""

from __future__ import annotations

import logging

from django.db import OperationalError

from trails import api as trails_api


def test_a_lost_database_is_a_json_503_to_retry_and_one_log_line(reader, monkeypatch, caplog):
    from lib.outage import database_outage

    def lost(*args, **kwargs):
        raise OperationalError("connection to server lost")

    monkeypatch.setattr(trails_api, "_trails", lost)
    with caplog.at_level(logging.ERROR):
        answers = [reader.get("/api/v1/trails") for _ in range(3)]
    database_outage.recovered()

    assert [answer.status_code for answer in answers] == [503] * 3
    assert answers[0]["Retry-After"] == "30" and answers[0].json()["error"]["code"] == "unavailable"
    assert len([record for record in caplog.records if record.levelno >= logging.ERROR]) == 1
    assert "Traceback" not in caplog.text
