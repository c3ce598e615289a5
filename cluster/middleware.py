"""Fail closed and say so when the database goes away in the middle of a request."""

from __future__ import annotations

import contextlib
import logging

from django.db import InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


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
