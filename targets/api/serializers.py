"""Serializers of the targets engine's API: targets with their counting rule, progress
snapshots, the firms behind a count, alerts."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cluster import clock
from cluster.models import District
from cluster.quarters import Quarter

from ..choices import Basis
from ..models import Alert, Metric, ProgressSnapshot, RuleVersion, Target
from ..selectors.plans import mode_of


class CountingRuleSerializer(serializers.Serializer):
    """A target's counting rule as fields, and in words generated from them."""

    kind = serializers.ChoiceField(choices=Metric.Kind.choices)
    figure = serializers.CharField()
    denominator = serializers.CharField(help_text="for a ratio: the figure divided by")
    threshold = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    comparison = serializers.CharField()
    designation_type = serializers.CharField()
    count_mode = serializers.CharField()
    counted_since = serializers.DateField(allow_null=True)
    rule_version = serializers.IntegerField()
    words = serializers.DictField(child=serializers.CharField(), help_text="zh and en")

    def to_representation(self, target: Target) -> dict:
        metric = target.metric
        return {
            **metric.rule(),
            "rule_version": target.rule_version,
            "words": metric.counting_rule_words(),
        }


COUNT_UNITS = (Target.Unit.FIRMS, Target.Unit.PROJECTS)
FIGURE_SCHEMA = {
    "oneOf": [
        {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$"},
        {"type": "number"},
    ],
    "description": "In the target's unit: an amount (yuan) or a percentage as a decimal "
    "string with two places; a count (firms, projects) as a number, whole counts as integers.",
}


def figure_json(target: Target, value) -> str | int | float | None:
    """A figure of `target` as the API sends it: an amount or a percentage as an exact
    decimal string, like every amount of the API; a count as a number: a whole one as an
    integer (1 firm is 1, not "1.00"), an expected or projected one with its decimals."""
    if value is None:
        return None
    value = Decimal(value)
    if target.unit in COUNT_UNITS:
        return int(value) if value == value.to_integral_value() else float(value)
    return f"{value:.2f}"


@extend_schema_field(FIGURE_SCHEMA)
class FigureField(serializers.Field):
    """A figure of a target (the object's own, or the target of a snapshot), through
    `figure_json`."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        target = instance if isinstance(instance, Target) else instance.target
        return target, super().get_attribute(instance)

    def to_representation(self, value):
        target, figure = value
        return figure_json(target, figure)


@extend_schema_field({**FIGURE_SCHEMA, "nullable": True})
class NullableFigureField(FigureField):
    pass


class RuleVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleVersion
        fields = ["version", "changed_at", "reason", "rule"]


class TargetSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="plan.cluster.key", read_only=True)
    plan = serializers.SlugRelatedField(slug_field="key", read_only=True)
    metric = serializers.SlugRelatedField(slug_field="key", read_only=True)
    metric_kind = serializers.CharField(source="metric.kind", read_only=True)
    counting_rule = serializers.CharField(
        source="metric.counting_rule", read_only=True, help_text="In the request's language."
    )
    rule = CountingRuleSerializer(source="*", read_only=True)
    rule_versions = RuleVersionSerializer(many=True, read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    target_value = FigureField()
    baseline_value = NullableFigureField()

    class Meta:
        model = Target
        fields = [
            "id",
            "cluster",
            "plan",
            "key",
            "name_zh",
            "name_en",
            "metric",
            "metric_kind",
            "counting_rule",
            "rule",
            "rule_version",
            "rule_versions",
            "comparison",
            "target_value",
            "unit",
            "deadline",
            "baseline_year",
            "baseline_value",
            "baseline_set_by_hand",
            "district",
            "sector",
            "source",
            "at_risk_ratio",
        ]


class SnapshotSerializer(serializers.ModelSerializer):
    target = serializers.SlugRelatedField(slug_field="key", read_only=True)
    plan = serializers.CharField(source="target.plan.key", read_only=True)
    phase = serializers.SerializerMethodField(
        help_text="How the quarter is shown today: in_force (progress) or evaluation (the "
        "ended plan's deadline quarter: the official figure, no projection)."
    )
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    period = serializers.SerializerMethodField()
    actual = FigureField()
    milestone_expected = NullableFigureField()
    projection = NullableFigureField()
    run_rate_needed = NullableFigureField()
    scope_target = NullableFigureField(
        help_text="A district's or direction's row: the part of the target the steward gave "
        "the scope (任务分解), which share_of_target, milestone_expected and status measure; "
        "null: the scope has none, and the row is its contribution (share_of_city)."
    )

    class Meta:
        model = ProgressSnapshot
        fields = [
            "id",
            "target",
            "plan",
            "phase",
            "scope_kind",
            "district",
            "sector",
            "period",
            "year",
            "quarter",
            "basis",
            "vintage",
            "rule_version",
            "actual",
            "scope_target",
            "share_of_target",
            "share_of_city",
            "milestone_expected",
            "projection",
            "run_rate_needed",
            "status",
            "basis_note",
            "computed_at",
        ]

    def get_period(self, obj) -> str:
        return f"{obj.year}Q{obj.quarter}"

    def get_phase(self, obj) -> str:
        today = self.context.get("today") or clock.today()
        return mode_of(obj.target.plan, Quarter(obj.year, obj.quarter), today)


class FirmsQuerySerializer(serializers.Serializer):
    """The parameters of the list of the firms behind a count."""

    quarter = serializers.CharField(help_text="e.g. 2025Q4")
    basis = serializers.ChoiceField(choices=Basis.choices, default=Basis.APPROVED)
    vintage = serializers.DateTimeField(required=False, help_text="default: the newest")
    district = serializers.CharField(required=False, help_text="district code, e.g. 320571")

    def validate_quarter(self, value: str) -> Quarter:
        try:
            return Quarter.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_district(self, value: str) -> District:
        district = District.objects.filter(code=value).first()
        if district is None:
            raise serializers.ValidationError(
                _("No district has the code %(code)s.") % {"code": value}
            )
        return district


class CountedRowSerializer(serializers.Serializer):
    """A firm (or a research project) behind a count, with what is counted for it."""

    enterprise = serializers.IntegerField(source="enterprise_id", allow_null=True)
    uscc = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    district = serializers.CharField(source="district.code", allow_null=True, default=None)
    value = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        allow_null=True,
        help_text="The year-to-date figure, for sums and thresholds.",
    )
    evidence = serializers.SerializerMethodField(
        help_text="The listing, designation, project or cluster membership that counts (or "
        "the latest one held)."
    )
    counts = serializers.BooleanField()

    def get_evidence(self, row) -> dict | None:
        item = row.evidence
        if item is None:
            return None
        fields = {
            "listing": ("venue", "ticker", "listed_on", "delisted_on"),
            "designation": ("type", "tier", "valid_from", "valid_to"),
            "project": ("title", "level", "started_on", "status"),
            "membership": ("joined_on", "left_on"),
        }[row.evidence_kind]
        values = {
            name: (value.isoformat() if hasattr(value, "isoformat") else value)
            for name, value in ((n, getattr(item, n)) for n in fields)
        }
        return {"kind": row.evidence_kind, "id": item.pk, **values, "text": row.evidence_text}


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="kind", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    target = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    enterprise_uscc = serializers.CharField(
        source="enterprise.uscc", read_only=True, default=None, allow_null=True
    )
    message = serializers.CharField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "severity",
            "state",
            "owner",
            "target",
            "enterprise",
            "enterprise_uscc",
            "designation",
            "district",
            "numbers",
            "message",
            "message_zh",
            "message_en",
            "opened_at",
            "last_seen_at",
            "escalated_at",
            "acknowledged_at",
            "comment",
            "snoozed_until",
            "resolved_at",
            "resolved_automatically",
        ]


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")
