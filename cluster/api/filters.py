"""Filters every API filter set builds on: integers stay within the database's range."""

from __future__ import annotations

from django import forms
from django.db import models
from django.db.models import Q
from django_filters import rest_framework as filters

BIGGEST = 2**63 - 1


class IntegerFilter(filters.NumberFilter):
    """A whole number within the database's range: anything else is a 400, not a crash."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -BIGGEST)
        kwargs.setdefault("max_value", BIGGEST)
        super().__init__(*args, **kwargs)


class QuarterField(forms.CharField):
    """A quarter written as 2025Q3: anything else is a 400 naming the parameter."""

    def to_python(self, value):
        from cluster.quarters import Quarter

        text = super().to_python(value)
        if not text:
            return None
        try:
            return Quarter.parse(text)
        except ValueError as refused:
            raise forms.ValidationError(str(refused), code="invalid") from None


class QuarterFilter(filters.Filter):
    """Rows of one quarter (a model with `year` and `quarter` fields, or `prefix` to them)."""

    field_class = QuarterField

    def __init__(self, *args, prefix: str = "", **kwargs):
        kwargs.setdefault("label", "quarter, e.g. 2025Q3")
        super().__init__(*args, **kwargs)
        self.prefix = prefix

    def filter(self, queryset, value):
        if value is None:
            return queryset
        return queryset.filter(
            **{f"{self.prefix}year": value.year, f"{self.prefix}quarter": value.quarter}
        )


class FilterSet(filters.FilterSet):
    """Base of the API's filter sets: integer model fields filter through IntegerFilter."""

    def read_elsewhere(self, queryset, name, value):
        """For a parameter another filter of the set reads (e.g. a date for a type filter)."""
        return queryset

    def search_name_or_code(self, queryset, name, value):
        return queryset.filter(
            Q(name_zh__icontains=value) | Q(name_en__icontains=value) | Q(code=value)
        )

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.IntegerField: {"filter_class": IntegerFilter},
        models.AutoField: {"filter_class": IntegerFilter},
        models.BigAutoField: {"filter_class": IntegerFilter},
    }
