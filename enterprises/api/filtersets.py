"""Filters of the register's API (django-filter)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_filters import rest_framework as filters

from cluster.api.filters import FilterSet, IntegerFilter, QuarterFilter

from ..choices import DesignationType
from ..models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ResearchProject,
)


class EnterpriseFilterSet(FilterSet):
    q = filters.CharFilter(method="search", label="name contains, or exact USCC")
    district = filters.CharFilter(field_name="district__code", label="district code")
    district_id = IntegerFilter(field_name="district_id")
    cluster = filters.CharFilter(method="member", label="a member of this cluster (key)")
    sector = filters.CharFilter(
        method="member",
        label="primary sector code (direction or material); with cluster, in that cluster's tree",
    )
    member_on = filters.DateFilter(
        method="read_elsewhere", label="date for cluster and sector (default: at any time)"
    )
    designation = filters.ChoiceFilter(
        choices=DesignationType.choices, method="holding", label="holds a valid designation"
    )
    designation_valid_on = filters.DateFilter(
        method="read_elsewhere", label="date for designation (default today)"
    )
    listed = filters.BooleanFilter(method="is_listed", label="listed today")

    class Meta:
        model = Enterprise
        fields = ["status", "size_class", "above_designated_size", "is_demo"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name_zh__icontains=value) | Q(name_en__icontains=value) | Q(uscc=value.upper())
        )

    def member(self, queryset, name, value):
        """Firms with a membership matching cluster, sector and member_on together: the
        sector is the one the firm has in that cluster."""
        data = self.form.cleaned_data
        if name == "sector" and data.get("cluster"):
            return queryset  # applied with the cluster
        memberships = ClusterMembership.objects.filter(enterprise=OuterRef("pk"))
        if data.get("member_on"):
            memberships = memberships.valid_on(data["member_on"])
        if data.get("cluster"):
            memberships = memberships.filter(cluster__key=data["cluster"])
        if data.get("sector"):
            memberships = memberships.in_sector(data["sector"])
        return queryset.filter(Exists(memberships))

    def holding(self, queryset, name, value):
        day = self.form.cleaned_data.get("designation_valid_on") or timezone.localdate()
        valid = Designation.objects.valid_on(day).filter(enterprise=OuterRef("pk"), type=value)
        return queryset.filter(Exists(valid))

    def is_listed(self, queryset, name, value):
        listed = Exists(
            Listing.objects.listed_on(timezone.localdate()).filter(enterprise=OuterRef("pk"))
        )
        return queryset.filter(listed) if value else queryset.exclude(listed)


class ReportFilterSet(FilterSet):
    q = filters.CharFilter(method="search", label="firm name contains, or exact USCC")
    district = filters.CharFilter(field_name="enterprise__district__code", label="district code")
    enterprise = IntegerFilter(field_name="enterprise_id")
    period = QuarterFilter()

    class Meta:
        model = QuarterlyReport
        fields = ["status", "year", "quarter"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(enterprise__name_zh__icontains=value) | Q(enterprise__uscc=value.upper())
        )


class FirmRecordFilterSet(FilterSet):
    """Filters every endpoint of a firm's records shares: the firm and its district, each by
    code and by id (NetBox style), and a search."""

    q = filters.CharFilter(method="search", label="firm name contains, or exact USCC")
    enterprise = filters.CharFilter(field_name="enterprise__uscc", label="firm USCC")
    enterprise_id = IntegerFilter(field_name="enterprise_id", label="firm id")
    district = filters.CharFilter(field_name="enterprise__district__code", label="district code")
    district_id = IntegerFilter(field_name="enterprise__district_id", label="district id")

    # Text fields of the record itself that the search also looks in.
    searched: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        condition = (
            Q(enterprise__name_zh__icontains=value)
            | Q(enterprise__name_en__icontains=value)
            | Q(enterprise__uscc=value.upper())
        )
        for field in self.searched:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class ClusterMembershipFilterSet(FirmRecordFilterSet):
    cluster = filters.CharFilter(field_name="cluster__key", label="cluster key")
    sector = filters.CharFilter(
        method="in_sector",
        label="primary sector code (direction or material); with cluster, in that cluster's tree",
    )
    valid_on = filters.DateFilter(method="in_force", label="a member on this date")

    class Meta:
        model = ClusterMembership
        fields: list[str] = []

    def in_sector(self, queryset, name, value):
        return queryset.in_sector(value)

    def in_force(self, queryset, name, value):
        return queryset.valid_on(value)


class DesignationFilterSet(FirmRecordFilterSet):
    valid_on = filters.DateFilter(method="in_force", label="valid on this date")
    searched = ("issuer", "certificate_no")

    class Meta:
        model = Designation
        fields = ["type", "tier"]

    def in_force(self, queryset, name, value):
        return queryset.valid_on(value)


class ListingFilterSet(FirmRecordFilterSet):
    listed_as_of = filters.DateFilter(
        method="listed", label="listed on this date (a NEEQ quotation is not a listing)"
    )
    searched = ("ticker",)

    class Meta:
        model = Listing
        fields = ["venue", "ticker"]

    def listed(self, queryset, name, value):
        return queryset.listed_on(value)


class MilestoneFilterSet(FirmRecordFilterSet):
    occurred_since = filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_until = filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    searched = ("note",)

    class Meta:
        model = Milestone
        fields = ["kind"]


class ProjectFilterSet(FilterSet):
    q = filters.CharFilter(method="search", label="title or lead institution contains")
    district = filters.CharFilter(field_name="district__code", label="district code")
    district_id = IntegerFilter(field_name="district_id", label="district id")
    lead_enterprise = filters.CharFilter(field_name="lead_enterprise__uscc", label="lead firm USCC")
    lead_enterprise_id = IntegerFilter(field_name="lead_enterprise_id", label="lead firm id")
    partner = filters.CharFilter(
        field_name="partners__uscc", distinct=True, label="partner firm USCC"
    )
    partner_id = IntegerFilter(field_name="partners", distinct=True, label="partner firm id")
    started_since = filters.DateFilter(field_name="started_on", lookup_expr="gte")
    cluster = filters.CharFilter(
        field_name="clusters__key", distinct=True, label="counts toward this cluster (key)"
    )

    class Meta:
        model = ResearchProject
        fields = ["level", "is_major", "status"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(lead_institution__icontains=value))
