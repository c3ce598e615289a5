"""The nano plan as its plan file says it (targets/plans/files/nano-2023-2025.yaml), loaded
by the same loader as any plan file: nothing about the plan stays in code. On a database
made by the earlier migrations the file matches what they loaded, and this adds what the file
holds besides (the 序时进度 bands, the file itself)."""

from pathlib import Path

from django.db import migrations

FILE = Path(__file__).resolve().parent.parent / "plans" / "files" / "nano-2023-2025.yaml"


def load(apps, schema_editor):
    from targets.plans.loading import Models, plan_load
    from targets.plans.reading import read_plan_file

    loading = plan_load(
        read_plan_file(FILE.read_text(encoding="utf-8")),
        actor=None,
        reason="loaded from targets/plans/files/nano-2023-2025.yaml",
        models=Models.of(apps),
    )
    if loading.errors:
        raise ValueError("; ".join(str(error) for error in loading.errors))


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0010_targets_belong_to_plans"),
        ("enterprises", "0007_memberships_replace_in_cluster_dates"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
