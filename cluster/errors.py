"""Errors the services raise that more than one interface answers the same way."""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """The object moved on since the user saw it (another steward approved the report a
    moment earlier). A ValidationError, so that forms show it; the API answers 409."""
