"""The roles' rights on the assessments of qualitative targets: every role reads them; a city
steward adds them (through targets.services.assessments, which also checks the role). An
assessment is kept as made: nobody changes or deletes one."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "district_officer": ["view"],
    "city_steward": ["view", "add"],
    "administrator": ["view"],
}


def grant_assessments(apps, schema_editor):
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
                    codename__in=[f"{action}_assessment" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0011_nano_plan_from_its_file"),
    ]

    operations = [migrations.RunPython(grant_assessments, migrations.RunPython.noop)]
