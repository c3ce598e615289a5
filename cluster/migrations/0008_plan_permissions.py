"""The roles' rights on plans in the admin: every role reads them; a city steward corrects a
plan's document details (its targets come from its plan file, `load_plan`). Nobody adds or
deletes a plan there: a plan file adds it, and a plan with figures behind it stays."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "district_officer": ["view"],
    "city_steward": ["view", "change"],
    "administrator": ["view"],
}


def grant_plans(apps, schema_editor):
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
                    content_type__app_label="cluster",
                    codename__in=[f"{action}_plan" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cluster", "0007_plans_are_data"),
        ("enterprises", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant_plans, migrations.RunPython.noop)]
