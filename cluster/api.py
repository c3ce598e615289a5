"""What every API endpoint shares: scope-based permissions, pagination, one error shape, and
the read-only endpoints of the reference data (districts, sectors)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from .access import log_refused
from .errors import StateConflict
from .models import District, Sector

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


class Router(DefaultRouter):
    """Object ids in paths are 1 to 18 digits: a longer number is a 404, not an overflow.
    No format-suffix routes (/enterprises.json): the API speaks JSON, and the suffix routes
    broke the custom actions (found by tests/test_authorization.py)."""

    include_format_suffixes = False

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if not hasattr(viewset, "lookup_value_regex"):
            viewset.lookup_value_regex = "[0-9]{1,18}"
        return super().get_lookup_regex(viewset, lookup_prefix)


def _messages(detail):
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, dict | list) else _messages(item) for item in detail
        ]
    return str(detail)


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def _log_if_refused(context) -> None:
    """A 404 for an object that exists outside the caller's scope is a refused access."""
    view = context.get("view")
    kwargs = getattr(view, "kwargs", None) or {}
    key = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    if key not in kwargs or not hasattr(view, "get_queryset"):
        return
    try:
        model = view.get_queryset().model
        value = kwargs[key]
        if model._default_manager.filter(**{getattr(view, "lookup_field", "pk"): value}).exists():
            log_refused(context["request"].user, model, {"pk": value})
    except Exception:  # logging must never turn a 404 into a 500
        return


def exception_handler(exc, context):
    """One error shape for every endpoint:
    {"code": "<machine code>", "message": "<translated text>", "errors": {...}}."""
    if isinstance(exc, StateConflict):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404 | exceptions.NotFound):
        _log_if_refused(context)
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            _("The request body is larger than the %(limit)d MB allowed; send fewer rows per call.")
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2**20}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    body = {"code": getattr(exc, "default_code", "error"), "message": "", "errors": {}}
    if isinstance(exc, exceptions.ValidationError):
        errors = _messages(detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        body.update(code="invalid", message=_("The request has invalid values."), errors=errors)
    elif isinstance(detail, dict) and "detail" in detail:
        body["code"] = getattr(detail["detail"], "code", body["code"])
        body["message"] = str(detail["detail"])
        body.update({k: v for k, v in detail.items() if k != "detail"})
    else:
        body["message"] = str(detail)
    response.data = body
    return response


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. invalid, not_found.")
    message = serializers.CharField(help_text="Translated message (Accept-Language).")
    errors = serializers.DictField(
        required=False, help_text="Per field (or per row) messages of a validation error."
    )


ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}


class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "code", "code_system", "name_zh", "name_en", "kind", "parent"]


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["id", "code", "level", "parent", "name_zh", "name_en", "source"]


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


@extend_schema_view(
    list=extend_schema(
        summary="Districts (区/县级市) / 区县列表",
        responses={200: DistrictSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One district / 区县", responses={200: DistrictSerializer, **ERRORS}
    ),
)
class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = District.objects.order_by("sort_order")
    serializer_class = DistrictSerializer
    filterset_class = DistrictFilterSet
    ordering_fields = ["sort_order", "code"]


@extend_schema_view(
    list=extend_schema(
        summary="Focus directions and materials / 重点方向与材料",
        responses={200: SectorSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One sector / 领域", responses={200: SectorSerializer, **ERRORS}
    ),
)
class SectorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Sector.objects.order_by("code")
    serializer_class = SectorSerializer
    filterset_class = SectorFilterSet
    ordering_fields = ["code"]


def conflict_response(current_data: dict, message: str) -> Response:
    return Response(
        {"code": "conflict", "message": message, "errors": {}, "current": current_data},
        status=409,
    )
