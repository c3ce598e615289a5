"""Official releases of a quarter's data vintage, subscriptions to the quarterly brief and
the record of each brief sent; a notification is now an alert's or a brief's.

The roles' rights in the admin: everyone reads the releases, a city steward makes them
(through targets.services.briefs, which also checks the role) and manages the subscriptions
and reads the deliveries. A release and a delivery are kept as made."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from cluster.migration_grants import grant

GRANTS = {
    "district_officer": ["view_release"],
    "administrator": ["view_release"],
    "city_steward": [
        "view_release",
        "add_release",
        "view_briefsubscription",
        "add_briefsubscription",
        "change_briefsubscription",
        "delete_briefsubscription",
        "view_briefdelivery",
    ],
}


def grant_roles(apps, schema_editor):
    grant(apps, "targets", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cluster", "0008_plan_permissions"),
        ("targets", "0014_target_breakdowns"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BriefSubscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("zh-hans", "中文"), ("en", "English")],
                        default="zh-hans",
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                ("attach_pdf", models.BooleanField(default=True, verbose_name="attach the PDF")),
                (
                    "attach_xlsx",
                    models.BooleanField(default=True, verbose_name="attach the Excel workbook"),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(verbose_name="created at")),
            ],
            options={
                "verbose_name": "brief subscription",
                "verbose_name_plural": "brief subscriptions",
                "ordering": ["cluster", "pk"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalBriefSubscription",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("zh-hans", "中文"), ("en", "English")],
                        default="zh-hans",
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                ("attach_pdf", models.BooleanField(default=True, verbose_name="attach the PDF")),
                (
                    "attach_xlsx",
                    models.BooleanField(default=True, verbose_name="attach the Excel workbook"),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical brief subscription",
                "verbose_name_plural": "historical brief subscriptions",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalRelease",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                (
                    "quarter",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(4),
                        ],
                        verbose_name="quarter",
                    ),
                ),
                ("vintage", models.DateTimeField(verbose_name="data vintage")),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("made_at", models.DateTimeField(verbose_name="released at")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical official release",
                "verbose_name_plural": "historical official releases",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Release",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                (
                    "quarter",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(4),
                        ],
                        verbose_name="quarter",
                    ),
                ),
                ("vintage", models.DateTimeField(verbose_name="data vintage")),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("made_at", models.DateTimeField(verbose_name="released at")),
            ],
            options={
                "verbose_name": "official release",
                "verbose_name_plural": "official releases",
                "ordering": ["-year", "-quarter", "-made_at"],
            },
        ),
        migrations.AlterField(
            model_name="notification",
            name="alert",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="targets.alert",
                verbose_name="alert",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="event",
            field=models.CharField(
                choices=[
                    ("opened", "opened"),
                    ("escalated", "escalated"),
                    ("resolved", "resolved"),
                    ("brief", "quarterly brief"),
                ],
                max_length=10,
                verbose_name="event",
            ),
        ),
        migrations.CreateModel(
            name="BriefDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("zh-hans", "中文"), ("en", "English")],
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("sending", "sending"),
                            ("sent", "sent"),
                            ("failed", "failed, retried on the next run"),
                            ("skipped", "skipped: nothing in the recipient's scope"),
                        ],
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                ("claimed_at", models.DateTimeField(verbose_name="claimed at")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "district",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cluster.district",
                        verbose_name="scope",
                    ),
                ),
                (
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="brief_deliveries",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
            ],
            options={
                "verbose_name": "brief delivery",
                "verbose_name_plural": "brief deliveries",
                "ordering": ["-claimed_at"],
            },
        ),
        migrations.AddField(
            model_name="notification",
            name="delivery",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notification",
                to="targets.briefdelivery",
                verbose_name="brief delivery",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("alert__isnull", False), ("delivery__isnull", True)),
                    models.Q(
                        ("alert__isnull", True), ("delivery__isnull", False), ("event", "brief")
                    ),
                    _connector="OR",
                ),
                name="notification_of_alert_or_brief",
            ),
        ),
        migrations.AddField(
            model_name="briefsubscription",
            name="cluster",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="subscriptions",
                to="cluster.cluster",
                verbose_name="cluster",
            ),
        ),
        migrations.AddField(
            model_name="briefsubscription",
            name="group",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="brief_subscriptions",
                to="auth.group",
                verbose_name="group",
            ),
        ),
        migrations.AddField(
            model_name="briefsubscription",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="brief_subscriptions",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AddField(
            model_name="historicalbriefsubscription",
            name="cluster",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="cluster.cluster",
                verbose_name="cluster",
            ),
        ),
        migrations.AddField(
            model_name="historicalbriefsubscription",
            name="group",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="auth.group",
                verbose_name="group",
            ),
        ),
        migrations.AddField(
            model_name="historicalbriefsubscription",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalbriefsubscription",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AddField(
            model_name="historicalrelease",
            name="cluster",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="cluster.cluster",
                verbose_name="cluster",
            ),
        ),
        migrations.AddField(
            model_name="historicalrelease",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalrelease",
            name="made_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="released by",
            ),
        ),
        migrations.AddField(
            model_name="release",
            name="cluster",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="releases",
                to="cluster.cluster",
                verbose_name="cluster",
            ),
        ),
        migrations.AddField(
            model_name="release",
            name="made_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="released by",
            ),
        ),
        migrations.AddField(
            model_name="briefdelivery",
            name="release",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="targets.release",
                verbose_name="release",
            ),
        ),
        migrations.AddConstraint(
            model_name="briefsubscription",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("group__isnull", True), ("user__isnull", False)),
                    models.Q(("group__isnull", False), ("user__isnull", True)),
                    _connector="OR",
                ),
                name="subscription_user_or_group",
                violation_error_message="Choose either a user or a group, not both.",
            ),
        ),
        migrations.AddConstraint(
            model_name="briefsubscription",
            constraint=models.UniqueConstraint(
                condition=models.Q(("user__isnull", False)),
                fields=("cluster", "user"),
                name="subscription_unique_user",
                violation_error_message="This user is already subscribed to the cluster.",
            ),
        ),
        migrations.AddConstraint(
            model_name="briefsubscription",
            constraint=models.UniqueConstraint(
                condition=models.Q(("group__isnull", False)),
                fields=("cluster", "group"),
                name="subscription_unique_group",
                violation_error_message="This group is already subscribed to the cluster.",
            ),
        ),
        migrations.AddConstraint(
            model_name="release",
            constraint=models.UniqueConstraint(
                fields=("cluster", "year", "quarter", "vintage"), name="release_unique_vintage"
            ),
        ),
        migrations.AddConstraint(
            model_name="release",
            constraint=models.CheckConstraint(
                condition=models.Q(("quarter__gte", 1), ("quarter__lte", 4)),
                name="release_quarter_1_to_4",
            ),
        ),
        migrations.AddConstraint(
            model_name="briefdelivery",
            constraint=models.UniqueConstraint(
                fields=("release", "recipient"), name="delivery_once_per_recipient"
            ),
        ),
        migrations.AddConstraint(
            model_name="briefdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "sent"), _negated=True),
                    ("sent_at__isnull", False),
                    _connector="OR",
                ),
                name="delivery_sent_has_time",
            ),
        ),
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
    ]
