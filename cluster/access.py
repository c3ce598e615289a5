"""Who sees and changes what: one scoping mechanism for pages, exports, admin and API.

A user's role is their group (created by a data migration); their org unit is their
Membership. Every queryset that pages, exports, the admin or the API show goes through
`Scope.filter`, usually via `ScopedQuerySet.visible_to(user)`, so an object outside the
user's districts simply does not exist for them (404), whatever the entry point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _

security_log = logging.getLogger("cluster.security")


class Role(models.TextChoices):
    DISTRICT_OFFICER = "district_officer", _("district officer")
    CITY_STEWARD = "city_steward", _("city steward")
    ADMINISTRATOR = "administrator", _("administrator (read-only)")


@dataclass(frozen=True)
class Scope:
    """Which districts a user's data lies in, and what their role may do with it. The rights
    are the one definition of each role's powers: pages, htmx rows, API, admin and services
    ask these, never the groups."""

    # None means the whole city; an empty set means nothing at all.
    district_ids: frozenset[int] | None
    # Register firms and enter, import and submit reports of the districts in scope.
    can_edit: bool = False
    can_approve: bool = False

    @property
    def is_city(self) -> bool:
        return self.district_ids is None

    @property
    def can_act_on_alerts(self) -> bool:
        """Acknowledge, snooze and resolve the alerts in scope: those who work the data act on
        its alerts (a district officer on the district's, a steward on all of them); a read-
        only administrator follows alerts and never changes them."""
        return self.can_edit

    def filter(self, queryset: models.QuerySet, path: str) -> models.QuerySet:
        if self.district_ids is None:
            return queryset
        if not self.district_ids:
            return queryset.none()
        return queryset.filter(**{f"{path}__in": self.district_ids})

    def covers(self, district_id: int | None) -> bool:
        return self.district_ids is None or district_id in self.district_ids


NOTHING = Scope(district_ids=frozenset())


def scope_of(user) -> Scope:
    """The scope of `user`, computed once per user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_cluster_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    user._cluster_scope = scope
    return scope


def _compute_scope(user) -> Scope:
    if user.is_superuser:
        return Scope(district_ids=None, can_edit=True, can_approve=True)
    roles = set(user.groups.values_list("name", flat=True))
    district_id = user.membership.district_id if hasattr(user, "membership") else None
    if Role.CITY_STEWARD in roles:
        return Scope(district_ids=None, can_edit=True, can_approve=True)
    if Role.DISTRICT_OFFICER in roles:
        if district_id is None:
            return NOTHING  # an officer without a district sees nothing rather than everything
        return Scope(district_ids=frozenset({district_id}), can_edit=True)
    if Role.ADMINISTRATOR in roles:
        return Scope(district_ids=None if district_id is None else frozenset({district_id}))
    return NOTHING


def role_of(user) -> str | None:
    if user.is_superuser:
        return Role.CITY_STEWARD
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in Role if role in names), None)


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows the path from its model to the district."""

    district_path = "district"

    def visible_to(self, user):
        return scope_of(user).filter(self, self.district_path)


def visible_history(records: models.QuerySet, model: type[models.Model], user) -> models.QuerySet:
    """The recorded states (django-simple-history records of `model`) that `user` may see.

    A record carries the fields of the state it recorded, so the model's own `visible_to` is
    applied to the records themselves: a state is visible when the object, as it was then,
    would be. Models without a scope are city reference data: all their states are visible."""
    live = model._default_manager.all()
    if not hasattr(live, "visible_to"):
        return records
    as_recorded = type(live)(model=records.model).visible_to(user)
    return records.filter(pk__in=as_recorded.values("pk"))


def log_refused(user, model, lookup) -> None:
    """One line per refused attempt on something outside the user's scope (pages, API)."""
    security_log.warning(
        "refused access: user=%s model=%s lookup=%s",
        getattr(user, "username", None) or "anonymous",
        model._meta.label,
        lookup,
    )


def get_or_refuse(visible, everything, user, **lookup):
    """The object from `visible` (what `user` may see); 404 otherwise, and an attempt on an
    object that exists in `everything` but outside the user's scope is logged as refused."""
    try:
        return visible.get(**lookup)
    except visible.model.DoesNotExist:
        if everything.filter(**lookup).exists():
            log_refused(user, everything.model, lookup)
        raise Http404 from None


def get_visible_or_404(queryset: ScopedQuerySet, user, **lookup):
    """get_or_refuse for the register's scoped querysets."""
    return get_or_refuse(queryset.visible_to(user), queryset, user, **lookup)
