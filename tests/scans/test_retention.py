from __future__ import annotations

from django.core.management import call_command
from django_tenants.utils import schema_context

from scans.models import RollupDay, Scan, StopDay
from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail
from tests.scans.test_analytics import days_ago, report_for, stops_of


def test_scans_older_than_the_retention_are_deleted_and_their_roll_ups_stay(workspace_a):
    workspace_a.scan_retention_days = 10
    workspace_a.save()
    try:
        stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(11, hour=23), visitor="old")
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(30), visitor="older")
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(10, hour=0), visitor="kept")
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), visitor="recent")

        call_command("purge_scans", stdout=open("/dev/null", "w"))  # noqa: SIM115

        with schema_context("alpha"):
            assert sorted(Scan.objects.values_list("visitor", flat=True)) == ["kept", "recent"]
            assert sorted(StopDay.objects.filter(day__lt=days_ago(10).date()).values_list("day", "scans")) == [
                (days_ago(30).date(), 1),
                (days_ago(11).date(), 1),
            ]
        assert report_for(workspace_a, days=31).scans == 4
        # The purged days are never counted again, though their raw scans are gone.
        call_command("build_rollups", rebuild=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert report_for(workspace_a, days=31).scans == 4
    finally:
        workspace_a.scan_retention_days = 400
        workspace_a.save()


def test_late_scans_of_a_day_about_to_be_purged_are_counted_first(workspace_a):
    workspace_a.scan_retention_days = 10
    workspace_a.save()
    try:
        stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(12), visitor="a")
        report_for(workspace_a, days=20)  # builds the day
        make_scan(workspace=workspace_a, stop=stop, at=days_ago(12, hour=13), visitor="b")

        call_command("purge_scans", schema="alpha", stdout=open("/dev/null", "w"))  # noqa: SIM115

        with schema_context("alpha"):
            assert not Scan.objects.exists()
            assert RollupDay.objects.get(day=days_ago(12).date()).scans == 2
        assert report_for(workspace_a, days=20).visitors == 2
    finally:
        workspace_a.scan_retention_days = 400
        workspace_a.save()
