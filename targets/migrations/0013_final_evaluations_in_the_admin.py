"""The admin's door to the final evaluations (a proxy of the plan): every role with a city
scope reads them; a city steward closes one through targets.services.evaluation, which also
checks the role. Nobody adds, changes or deletes a plan here."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "city_steward": ["view"],
    "administrator": ["view"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, actions in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="targets",
                    codename__in=[f"{action}_evaluatedplan" for action in actions],
                )
            )


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
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
