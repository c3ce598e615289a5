"""The roles' rights on cluster memberships, like those on a firm's designations: officers
view, add and change them in their district, stewards also delete them, administrators view."""

from django.db import migrations

from cluster.migration_grants import granting

GRANTS = {
    "district_officer": ["view", "add", "change"],
    "city_steward": ["view", "add", "change", "delete"],
    "administrator": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0008_official_share"),
    ]

    operations = [
        migrations.RunPython(
            granting("enterprises", "clustermembership", GRANTS), migrations.RunPython.noop
        )
    ]
