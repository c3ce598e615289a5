"""The admin's door to the final evaluations (a proxy of the plan): every role with a city
scope reads them; a city steward closes one through targets.services.evaluation, which also
checks the role. Nobody adds, changes or deletes a plan here."""

from django.db import migrations

from cluster.migration_grants import granting

GRANTS = {
    "city_steward": ["view"],
    "administrator": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("cluster", "0007_plans_are_data"),
        ("targets", "0012_assessment_permissions"),
    ]

    operations = [
        migrations.CreateModel(
            name="EvaluatedPlan",
            fields=[],
            options={
                "verbose_name": "plan's final evaluation",
                "verbose_name_plural": "plans' final evaluations",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("cluster.plan",),
        ),
        migrations.RunPython(
            granting("targets", "evaluatedplan", GRANTS), migrations.RunPython.noop
        ),
    ]
