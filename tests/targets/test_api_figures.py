"""Figures in the API: counts are numbers (1, not "1.00"), amounts exact decimal strings,
in the snapshots, the targets and the final evaluation's lines."""

import pytest

pytestmark = pytest.mark.django_db


def test_counts_are_integers_and_amounts_decimal_strings(api, city_steward, population):
    client = api(city_steward)
    params = {"cluster": "nano", "period": "2025Q2", "scope_kind": "city", "basis": "approved"}
    rows = client.get("/api/progress-snapshots/", params).json()["results"]
    by_key = {row["target"]: row for row in rows}
    over_1bn = by_key["firms_output_over_1bn"]
    assert over_1bn["actual"] == 1 and isinstance(over_1bn["actual"], int)
    assert by_key["listed_firms"]["actual"] == 1
    assert by_key["total_output"]["actual"] == "3200000000.00"

    targets = {row["key"]: row for row in client.get("/api/targets/").json()["results"]}
    assert targets["firms_output_over_1bn"]["target_value"] == 15
    assert targets["total_output"]["target_value"] == "100000000000.00"


def test_evaluation_lines_send_counts_as_integers(api, city_steward, population):
    plans = api(city_steward).get("/api/plans/", {"cluster": "nano"}).json()["results"]
    [plan] = [p for p in plans if p["key"] == "nano-2023-2025"]
    lines = {line["target"]: line for line in plan["evaluation"]["lines"]}
    assert lines["firms_output_over_5bn"]["target_value"] == 5
    assert lines["listed_firms"]["target_value"] == 10
    assert lines["total_output"]["target_value"] == "100000000000.00"
