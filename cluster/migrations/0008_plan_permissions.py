"""The roles' rights on plans in the admin: every role reads them; a city steward corrects a
plan's document details (its targets come from its plan file, `load_plan`). Nobody adds or
deletes a plan there: a plan file adds it, and a plan with figures behind it stays."""

from django.db import migrations

from cluster.migration_grants import granting

GRANTS = {
    "district_officer": ["view"],
    "city_steward": ["view", "change"],
    "administrator": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("cluster", "0007_plans_are_data"),
        ("enterprises", "0003_roles"),
    ]

    operations = [
        migrations.RunPython(granting("cluster", "plan", GRANTS), migrations.RunPython.noop)
    ]
