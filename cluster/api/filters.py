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
