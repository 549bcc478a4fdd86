from __future__ import annotations

import csv
import io

from tests.fixtures.scans import make_scan
from tests.fixtures.trails import make_trail
from tests.fixtures.workspaces import host_client
from tests.scans.test_analytics import days_ago, stops_of


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_each_export_holds_only_its_own_workspaces_scans(cast, workspace_a, workspace_b):
    for workspace, count in ((workspace_a, 3), (workspace_b, 5)):
        stop = stops_of(make_trail(workspace=workspace), workspace)[0]
        for i in range(count):
            make_scan(workspace=workspace, stop=stop, at=days_ago(1), visitor=f"{workspace.schema_name}{i}")
    client_a, client_b = host_client(workspace_a), host_client(workspace_b)
    client_a.force_login(cast.owner)
    client_b.force_login(cast.member_of_b)

    export_a = client_a.get("/dashboard/analytics/scans.csv?range=7")
    # Bravo's request leaves the connection on bravo's schema before alpha's rows are read.
    export_b = client_b.get("/dashboard/analytics/scans.csv?range=7")
    rows_a, rows_b = rows_of(export_a), rows_of(export_b)

    assert export_a["Content-Type"].startswith("text/csv")
    assert sorted(row["visitor"] for row in rows_a) == ["alpha0", "alpha1", "alpha2"]
    assert sorted(row["visitor"] for row in rows_b) == [f"bravo{i}" for i in range(5)]


def test_the_roll_up_export_holds_only_its_own_workspaces_days(cast, workspace_a, workspace_b):
    for workspace, count in ((workspace_a, 2), (workspace_b, 4)):
        stop = stops_of(make_trail(workspace=workspace), workspace)[0]
        for i in range(count):
            make_scan(workspace=workspace, stop=stop, at=days_ago(2), visitor=f"v{i}")
    client_a, client_b = host_client(workspace_a), host_client(workspace_b)
    client_a.force_login(cast.owner)
    client_b.force_login(cast.member_of_b)

    export_a = client_a.get("/dashboard/analytics/rollups.csv?range=7")
    export_b = client_b.get("/dashboard/analytics/rollups.csv?range=7")

    assert [(row["stop"], row["scans"], row["visitors"]) for row in rows_of(export_a)] == [("The Fountain", "2", "2")]
    assert [(row["stop"], row["scans"], row["visitors"]) for row in rows_of(export_b)] == [("The Fountain", "4", "4")]


def test_the_scan_export_follows_the_filters_and_defuses_formulas(cast, workspace_a):
    stop = stops_of(make_trail(workspace=workspace_a), workspace_a)[0]
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), referrer='=HYPERLINK("http://evil.example")')
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(1), is_bot=True)
    make_scan(workspace=workspace_a, stop=stop, at=days_ago(20))
    client = host_client(workspace_a)
    client.force_login(cast.viewer)

    rows = rows_of(client.get("/dashboard/analytics/scans.csv?range=7"))
    with_bots = rows_of(client.get("/dashboard/analytics/scans.csv?range=30&bots=on"))

    assert len(rows) == 1 and len(with_bots) == 3
    assert rows[0]["referrer"].startswith("'=HYPERLINK")
    assert rows[0]["ip_network"] == "203.0.113.0"
    assert rows[0]["stop"] == "The Fountain"
