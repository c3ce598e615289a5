"""The read-only administrator follows alerts and never acts on them (cluster.access,
Scope.can_act_on_alerts): its group keeps the view permission on alerts only. 0004 had given
it the change permission as well."""

from django.db import migrations


def _change_alert_of_administrators(apps):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    change_alert = list(
        Permission.objects.filter(content_type__app_label="targets", codename="change_alert")
    )
    return [group.permissions for group in Group.objects.filter(name="administrator")], change_alert


def revoke(apps, schema_editor):
    permission_sets, change_alert = _change_alert_of_administrators(apps)
    for permissions in permission_sets:
        permissions.remove(*change_alert)


def grant(apps, schema_editor):
    permission_sets, change_alert = _change_alert_of_administrators(apps)
    for permissions in permission_sets:
        permissions.add(*change_alert)


class Migration(migrations.Migration):
    dependencies = [("targets", "0005_plain_text_names")]

    operations = [migrations.RunPython(revoke, grant)]
