"""Granting the roles' groups their model permissions from a data migration: the one helper
every "who may do what in the admin" migration calls.

Permissions are normally created after all migrations have run (post_migrate); a migration
that grants them to a group needs them at once, so it creates them first. Kept free of model
imports: migrations call it with their historical `apps`."""

from django.contrib.auth.management import create_permissions


def grant(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    """Give each role's group (named by the role) the permissions `grants` names, as codenames
    of `app_label` ("view_plan"). A group that does not exist yet is skipped: the roles
    migration creates the groups with their rights of the day."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


def granting(app_label: str, model: str, grants: dict[str, list[str]]):
    """A RunPython function giving each role the actions `grants` lists ("view", "add", …) on
    `model` of `app_label`."""

    def run(apps, schema_editor):
        grant(
            apps,
            app_label,
            {role: [f"{action}_{model}" for action in actions] for role, actions in grants.items()},
        )

    return run
