"""The worker's periodic jobs: each runs once a period, whichever of several workers gets to it first."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache

from scans import worker
from scans.models import RollupDay
from tests.fixtures.scans import make_scan
from tests.scans.test_recording import first_stop


@pytest.fixture(autouse=True)
def _no_claims_yet(db):
    cache.clear()
    yield
    cache.clear()


def test_a_job_runs_once_a_period_however_many_workers_ask():
    ran = []
    job = worker.Job("count", every_seconds=3600, run=lambda: ran.append(1))

    first_worker = worker.run_due_jobs((job,), now=7200.0)
    second_worker = worker.run_due_jobs((job,), now=7300.0)  # the same hour
    next_hour = worker.run_due_jobs((job,), now=10800.0)

    assert (first_worker, second_worker, next_hour) == (["count"], [], ["count"])
    assert len(ran) == 2


def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    def broken():
        raise RuntimeError("disk on fire")

    ran = []
    jobs = (worker.Job("broken", 60, broken), worker.Job("fine", 60, lambda: ran.append(1)))

    with caplog.at_level(logging.ERROR, logger="scans.worker"):
        assert worker.run_due_jobs(jobs, now=600.0) == ["broken", "fine"]

    assert ran == [1] and "job broken failed" in caplog.text


def test_the_roll_up_job_builds_every_workspaces_closed_days(workspace_a, workspace_b):
    import datetime

    from django.utils import timezone
    from django_tenants.utils import schema_context

    yesterday = timezone.now() - datetime.timedelta(days=1)
    for workspace in (workspace_a, workspace_b):
        make_scan(workspace=workspace, stop=first_stop(workspace), at=yesterday)

    worker.run_due_jobs(tuple(job for job in worker.JOBS if job.name == "build_rollups"))

    for workspace in (workspace_a, workspace_b):
        with schema_context(workspace.schema_name):
            assert RollupDay.objects.filter(day=workspace.today() - datetime.timedelta(days=1), scans=1).exists()
