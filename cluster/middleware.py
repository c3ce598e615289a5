"""Requests that cannot be served get a clear answer, never a bare 500: a value in the
address or a form that cannot be used answers 400 naming it, and a lost database 503."""

from __future__ import annotations

import contextlib
import logging
import unicodedata

from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import TO_FIELD_VAR
from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from .errors import InvalidParameter

log = logging.getLogger(__name__)

# Tabs and line breaks are text (a comment, a pasted address); every other control
# character is not, and PostgreSQL cannot even store NUL.
_TEXT_CONTROLS = {"\t", "\n", "\r"}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_control_character(text: str) -> bool:
    return any(
        unicodedata.category(character) == "Cc" and character not in _TEXT_CONTROLS
        for character in text
    )


def _unusable_parameter(request) -> str | None:
    """The name of the first parameter holding a control character: a path argument, a
    query parameter or a form field. An address that matches no route is left to the
    resolver's 404."""
    if _has_control_character(request.path_info):
        with contextlib.suppress(Resolver404):
            match = resolve(request.path_info)
            return next(
                (key for key, value in match.kwargs.items() if _has_control_character(str(value))),
                "path",
            )
    sources = [request.GET]
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        # Too big or malformed: the view meets the same error and answers it as before.
        with contextlib.suppress(SuspiciousOperation, MultiPartParserError):
            sources.append(request.POST)
    for source in sources:
        for name, values in source.lists():
            if _has_control_character(name) or any(map(_has_control_character, values)):
                return name
    return None


def invalid_parameter_response(request, name: str, reason: str):
    """The one answer to an unusable value: the API's error shape under /api/, else a page
    naming the parameter and the reason, in the active language."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {
                "code": "invalid",
                "message": _("The request has invalid values."),
                "errors": {name: [reason]},
            },
            status=400,
        )
    message = _("The parameter “%(name)s” is not valid: %(reason)s") % {
        "name": name,
        "reason": reason,
    }
    return render(request, "400.html", {"message": message}, status=400)


class BadRequestMiddleware:
    """One owner for values nothing can use. Control characters (NUL above all, which
    PostgreSQL refuses with an error) in the path, the query string or a form field are
    refused before any view reads them; an InvalidParameter raised by a view (a period
    that is not a quarter, a date that does not exist) is answered the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _unusable_parameter(request)
        if name is not None:
            return invalid_parameter_response(
                request, name, _("control characters (such as NUL) are not accepted.")
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, InvalidParameter):
            return invalid_parameter_response(request, exception.name, exception.reason)
        return None


def bad_request(request, exception):
    """Django's handler400, for the SuspiciousOperation refusals Django raises itself: the
    same page, naming the parameter where one is to blame."""
    if isinstance(exception, DisallowedModelAdminToField):
        return invalid_parameter_response(
            request, TO_FIELD_VAR, _("this field cannot be referenced here.")
        )
    return render(
        request, "400.html", {"message": _("The request could not be understood.")}, status=400
    )


class DatabaseUnavailableMiddleware:
    """A lost or refused database connection answers 503 with "nothing was saved; try again"
    (the request's transaction was rolled back by the server) instead of a bare 500, and the
    broken connection is dropped so the next request opens a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        with contextlib.suppress(Exception):  # the connection may be gone already
            connection.close()
        message = _(
            "The database could not be reached; nothing from this request was saved. "
            "Please try again in a moment."
        )
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": "database_unavailable", "message": message, "errors": {}}, status=503
            )
        response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = "30"
        return response
