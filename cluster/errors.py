"""Errors the services raise that more than one interface answers the same way."""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """The object moved on since the user saw it (another steward approved the report a
    moment earlier). A ValidationError, so that forms show it; the API answers 409."""


class InvalidParameter(ValidationError):
    """A value in the address (a query parameter or a path argument) that cannot be used.
    A page answers 400 naming the parameter and the reason (cluster.middleware); the API, as
    for any ValidationError, 400 with the reason under `errors[<name>]`."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__({name: [reason]})
        self.name = name
        self.reason = reason
