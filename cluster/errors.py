"""Errors the services raise that more than one interface answers the same way."""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """The object moved on since the user saw it (another steward approved the report a
    moment earlier). A ValidationError, so that forms show it; the API answers 409."""


class NotAllowed(ValidationError):
    """The step is refused for who the user is, not for what they sent (four-eyes review: the
    person who entered the figures does not approve them). A ValidationError, so that pages
    show the reason; the API answers 403 with it."""
