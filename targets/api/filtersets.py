"""Filters of the targets engine's API (django-filter)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from cluster.api.filters import FilterSet, IntegerFilter, QuarterFilter

from ..models import Alert, ProgressSnapshot, Target
from ..selectors.dashboard import newest_at


class TargetFilterSet(FilterSet):
    cluster = filters.CharFilter(field_name="plan__cluster__key", label="cluster key, e.g. nano")
    plan = filters.CharFilter(field_name="plan__key", label="plan key, e.g. nano-2023-2025")

    class Meta:
        model = Target
        fields = ["cluster", "plan"]


class SnapshotFilterSet(FilterSet):
    cluster = filters.CharFilter(
        field_name="target__plan__cluster__key", label="cluster key, e.g. nano"
    )
    plan = filters.CharFilter(field_name="target__plan__key", label="plan key")
    target = filters.CharFilter(field_name="target__key")
    district = filters.CharFilter(field_name="district__code")
    sector = filters.CharFilter(field_name="sector__code")
    period = QuarterFilter()
    vintage = filters.IsoDateTimeFilter(method="at_vintage", label="exactly this vintage")
    as_of = filters.IsoDateTimeFilter(
        method="read_elsewhere",
        label="the newest vintage not after this moment (default: the newest)",
    )
    rule_version = IntegerFilter(
        method="read_elsewhere",
        min_value=1,
        label="the version of the counting rule (default: each target's current one)",
    )

    class Meta:
        model = ProgressSnapshot
        fields = ["scope_kind", "year", "quarter", "basis", "status"]

    def at_vintage(self, queryset, name, value):
        return queryset.filter(vintage=value)

    @property
    def qs(self):
        queryset = super().qs
        version = self.form.cleaned_data.get("rule_version")
        queryset = queryset.current() if version is None else queryset.filter(rule_version=version)
        if self.form.cleaned_data.get("vintage"):
            return queryset
        # One row per target, scope, quarter, basis and rule version: the newest vintage (as
        # of a moment).
        return newest_at(queryset, self.form.cleaned_data.get("as_of"))


class AlertFilterSet(FilterSet):
    rule = filters.CharFilter(field_name="rule__kind")
    owner = filters.CharFilter(field_name="owner__code", label="owner district code")
    city_level = filters.BooleanFilter(field_name="owner", lookup_expr="isnull")

    class Meta:
        model = Alert
        fields = ["state", "severity"]
