from django.db import migrations, models


class Migration(migrations.Migration):
    """The constraints in a migration of their own: PostgreSQL alters a table only without
    pending trigger events, and the fill before them runs in its own transaction."""

    dependencies = [
        ("enterprises", "0010_revision_superseded_at"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="reportrevision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("superseded_at__isnull", True)),
                fields=("report",),
                name="revision_one_current_per_report",
                violation_error_message="A report has one current approved revision.",
            ),
        ),
        migrations.AddConstraint(
            model_name="reportrevision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("superseded_at__isnull", True),
                    ("superseded_at__gte", models.F("approved_at")),
                    _connector="OR",
                ),
                name="revision_approved_at_before_superseded_at",
                violation_error_message="A revision cannot be superseded before it was approved.",
            ),
        ),
    ]
