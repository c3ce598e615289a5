"""Serializers of the targets engine's API: targets, progress snapshots, alerts."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Alert, ProgressSnapshot, Target


class TargetSerializer(serializers.ModelSerializer):
    metric = serializers.SlugRelatedField(slug_field="key", read_only=True)
    metric_kind = serializers.CharField(source="metric.kind", read_only=True)
    counting_rule = serializers.CharField(source="metric.description", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "key",
            "name_zh",
            "name_en",
            "metric",
            "metric_kind",
            "counting_rule",
            "comparison",
            "target_value",
            "unit",
            "deadline",
            "baseline_year",
            "baseline_value",
            "district",
            "sector",
            "source",
            "at_risk_ratio",
        ]


class SnapshotSerializer(serializers.ModelSerializer):
    target = serializers.SlugRelatedField(slug_field="key", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    period = serializers.SerializerMethodField()

    class Meta:
        model = ProgressSnapshot
        fields = [
            "id",
            "target",
            "scope_kind",
            "district",
            "sector",
            "period",
            "year",
            "quarter",
            "basis",
            "vintage",
            "actual",
            "share_of_target",
            "milestone_expected",
            "projection",
            "run_rate_needed",
            "status",
            "basis_note",
            "computed_at",
        ]

    def get_period(self, obj) -> str:
        return f"{obj.year}Q{obj.quarter}"


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
