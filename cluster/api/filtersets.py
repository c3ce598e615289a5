"""Filters of the reference data's API."""

from __future__ import annotations

from django_filters import rest_framework as filters

from ..models import District, Sector
from .filters import FilterSet


class DistrictFilterSet(FilterSet):
    q = filters.CharFilter(method="search_name_or_code", label="name or code contains")

    class Meta:
        model = District
        fields = ["kind", "code"]


class SectorFilterSet(FilterSet):
    q = filters.CharFilter(method="search_name_or_code", label="name or code contains")
    parent = filters.CharFilter(field_name="parent__code", label="focus direction code")

    class Meta:
        model = Sector
        fields = ["level", "code"]
