"""The roles' rights on cluster memberships, like those on a firm's designations: officers
view, add and change them in their district, stewards also delete them, administrators view."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "district_officer": ["view", "add", "change"],
    "city_steward": ["view", "add", "change", "delete"],
    "administrator": ["view"],
}


def grant_memberships(apps, schema_editor):
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
                    content_type__app_label="enterprises",
                    codename__in=[f"{action}_clustermembership" for action in actions],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0008_official_share"),
    ]

    operations = [migrations.RunPython(grant_memberships, migrations.RunPython.noop)]
