"""The plan's 任务分解: the part of a city-wide target each district or focus direction is to
reach (TargetShare), entered by a city steward, who alone changes it (an administrator reads it).
A district's or direction's snapshot now says what it is measured against: its own part, or
none, and then its share of the city's figure. The rows computed before measured the scope
against the whole city's target; they become the contributions they were."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, FloatField, OuterRef, Subquery
from django.db.models.functions import Cast, NullIf

from cluster.migration_grants import granting

GRANTS = {
    "city_steward": ["view", "add", "change", "delete"],
    "administrator": ["view"],
}


def contributions(apps, schema_editor):
    ProgressSnapshot = apps.get_model("targets", "ProgressSnapshot")
    city = ProgressSnapshot.objects.filter(
        target=OuterRef("target"),
        scope_kind="city",
        year=OuterRef("year"),
        quarter=OuterRef("quarter"),
        basis=OuterRef("basis"),
        vintage=OuterRef("vintage"),
        rule_version=OuterRef("rule_version"),
    ).values("actual")[:1]
    parts = ProgressSnapshot.objects.filter(
        scope_kind__in=["district", "sector"],
        target__district__isnull=True,
        target__sector__isnull=True,
    )
    # In floating point: SQLite would divide the stored decimals as integers.
    parts.update(
        share_of_target=None,
        share_of_city=Cast(F("actual"), FloatField())
        / NullIf(Cast(Subquery(city), FloatField()), 0.0),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cluster", "0008_plan_permissions"),
        ("targets", "0013_final_evaluations_in_the_admin"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="progresssnapshot",
            name="scope_target",
            field=models.DecimalField(
                decimal_places=2, max_digits=18, null=True, verbose_name="target of the scope"
            ),
        ),
        migrations.AddField(
            model_name="progresssnapshot",
            name="share_of_city",
            field=models.DecimalField(
                decimal_places=4,
                max_digits=20,
                null=True,
                verbose_name="share of the city's figure",
            ),
        ),
        migrations.CreateModel(
            name="HistoricalTargetShare",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "scope_kind",
                    models.CharField(
                        choices=[("district", "district"), ("sector", "focus direction")],
                        max_length=10,
                        verbose_name="scope",
                    ),
                ),
                (
                    "value",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="In the target's unit: yuan for money, a number of firms or projects.",
                        max_digits=18,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="target value of the scope",
                    ),
                ),
                (
                    "note",
                    models.CharField(
                        blank=True,
                        help_text="Where the figure comes from.",
                        max_length=200,
                        verbose_name="note",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cluster.district",
                        verbose_name="district",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "sector",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        limit_choices_to={"level": 1},
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cluster.sector",
                        verbose_name="focus direction",
                    ),
                ),
                (
                    "target",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="targets.target",
                        verbose_name="target",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical target breakdown (任务分解)",
                "verbose_name_plural": "historical target breakdowns (任务分解)",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="TargetShare",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "scope_kind",
                    models.CharField(
                        choices=[("district", "district"), ("sector", "focus direction")],
                        max_length=10,
                        verbose_name="scope",
                    ),
                ),
                (
                    "value",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="In the target's unit: yuan for money, a number of firms or projects.",
                        max_digits=18,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="target value of the scope",
                    ),
                ),
                (
                    "note",
                    models.CharField(
                        blank=True,
                        help_text="Where the figure comes from.",
                        max_length=200,
                        verbose_name="note",
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="cluster.district",
                        verbose_name="district",
                    ),
                ),
                (
                    "sector",
                    models.ForeignKey(
                        blank=True,
                        limit_choices_to={"level": 1},
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="cluster.sector",
                        verbose_name="focus direction",
                    ),
                ),
                (
                    "target",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="shares",
                        to="targets.target",
                        verbose_name="target",
                    ),
                ),
            ],
            options={
                "verbose_name": "target breakdown (任务分解)",
                "verbose_name_plural": "target breakdowns (任务分解)",
                "ordering": ["target", "scope_kind", "district__sort_order", "sector__sort_order"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("scope_kind", "district")),
                        fields=("target", "district"),
                        name="target_share_unique_district",
                        violation_error_message="This target already has a part for this district.",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("scope_kind", "sector")),
                        fields=("target", "sector"),
                        name="target_share_unique_sector",
                        violation_error_message="This target already has a part for this focus direction.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("scope_kind", "district"),
                                ("district__isnull", False),
                                ("sector__isnull", True),
                            ),
                            models.Q(
                                ("scope_kind", "sector"),
                                ("sector__isnull", False),
                                ("district__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="target_share_scope_consistent",
                        violation_error_message="A district's part names its district only; a focus direction's part its direction only.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("value__gte", 0)),
                        name="target_share_value_non_negative",
                        violation_error_message="A target value cannot be negative.",
                    ),
                ],
            },
        ),
        migrations.RunPython(granting("targets", "targetshare", GRANTS), migrations.RunPython.noop),
        migrations.RunPython(contributions, migrations.RunPython.noop),
    ]
