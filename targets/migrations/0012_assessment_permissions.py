"""The roles' rights on the assessments of qualitative targets: every role reads them; a city
steward adds them (through targets.services.assessments, which also checks the role). An
assessment is kept as made: nobody changes or deletes one."""

from django.db import migrations

from cluster.migration_grants import granting

GRANTS = {
    "district_officer": ["view"],
    "city_steward": ["view", "add"],
    "administrator": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0011_nano_plan_from_its_file"),
    ]

    operations = [
        migrations.RunPython(granting("targets", "assessment", GRANTS), migrations.RunPython.noop)
    ]
