"""One error shape for every API endpoint: {code, message, errors}, translated."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..access import log_refused
from ..errors import NotAllowed, StateConflict


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
    elif isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(" ".join(exc.messages))
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


def conflict_response(current_data: dict, message: str) -> Response:
    return Response(
        {"code": "conflict", "message": message, "errors": {}, "current": current_data},
        status=409,
    )
