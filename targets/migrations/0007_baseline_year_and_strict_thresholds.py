"""Counting rules that were code become data.

- "超 N 亿元" is strictly above the threshold: the plan's two threshold metrics say so in
  their new comparison field (the figures stay what they were).
- A target's baseline year is data: for every target, the year before its cluster's plan
  (2022 for the nano plan). The baseline value the first recompute fixed from whatever data
  it found (0.00 before any approval, or the first year with figures) is dropped together
  with the milestones interpolated from it; the progress job computes both again from the
  approved figures of the baseline year. Milestones a steward set by hand stay.
"""

from django.db import migrations

THRESHOLD_METRICS = ("firms_output_over_5bn", "firms_output_over_1bn")


def load(apps, schema_editor):
    Metric = apps.get_model("targets", "Metric")
    Target = apps.get_model("targets", "Target")
    TargetMilestone = apps.get_model("targets", "TargetMilestone")
    Metric.objects.filter(key__in=THRESHOLD_METRICS).update(comparison="gt")
    for target in Target.objects.select_related("cluster"):
        target.baseline_year = target.cluster.plan_start_year - 1
        target.baseline_value = None
        target.baseline_set_by_hand = False
        target.save(update_fields=["baseline_year", "baseline_value", "baseline_set_by_hand"])
    TargetMilestone.objects.filter(interpolated=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0006_counting_rules_and_versions"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
