"""The three roles of the product as groups with model permissions.

- district_officer: registers and edits the firms of their district and enters, imports and
  submits their quarterly reports (scope: their Membership's district).
- city_steward: everything on the register, the reference data and the targets, and the
  approval of reports (scope: the city).
- administrator: reads everything in scope (city, or one district), changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REGISTER = ["enterprise", "designation", "listing", "milestone", "quarterlyreport"]
READ_ONLY = [
    ("cluster", ["cluster", "district", "park", "sector"]),
    ("enterprises", REGISTER + ["researchproject", "reportrevision"]),
    ("targets", ["metric", "target"]),
]


def codenames(app_label, models, actions):
    return [(app_label, f"{action}_{model}") for model in models for action in actions]


ROLES = {
    "district_officer": codenames("enterprises", REGISTER, ["view", "add", "change"])
    + codenames("enterprises", ["researchproject", "reportrevision"], ["view"])
    + codenames("cluster", ["cluster", "district", "park", "sector"], ["view"])
    + codenames("targets", ["metric", "target"], ["view"]),
    "city_steward": codenames(
        "enterprises", REGISTER + ["researchproject"], ["view", "add", "change", "delete"]
    )
    + codenames("enterprises", ["reportrevision"], ["view"])
    + codenames(
        "cluster",
        ["cluster", "district", "park", "sector", "membership"],
        ["view", "add", "change", "delete"],
    )
    + codenames("targets", ["metric", "target"], ["view", "add", "change", "delete"]),
    "administrator": [
        pair for app, models in READ_ONLY for pair in codenames(app, models, ["view"])
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, pairs in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in pairs
        ]
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cluster", "0003_reporting"),
        ("enterprises", "0002_reporting"),
        ("targets", "0002_plan_targets"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
