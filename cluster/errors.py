"""Errors the services raise that more than one interface answers the same way."""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """The object moved on since the user saw it (another steward approved the report a
    moment earlier). A ValidationError, so that forms show it; the API answers 409."""


class NotAllowed(ValidationError):
    """The step is refused for who the user is, not for what they sent (four-eyes review: the
    person who entered the figures does not approve them). A ValidationError, so that pages
    show the reason; the API answers 403 with it."""


class InvalidParameter(ValidationError):
    """A value in the address (a query parameter or a path argument) that cannot be used.
    A page answers 400 naming the parameter and the reason (cluster.middleware); the API, as
    for any ValidationError, 400 with the reason under `errors[<name>]`."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__({name: [reason]})
        self.name = name
        self.reason = reason
