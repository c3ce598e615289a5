"""Watched designations expiring soon or expired and not renewed."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Exists,
    OuterRef,
)
from django.utils.translation import gettext as _

from enterprises.models import Designation

from ..choices import WATCHED_DESIGNATIONS, AlertKind, Severity
from .registry import Condition, register


@register(AlertKind.DESIGNATION_EXPIRING)
def designation_expiring(rule, today):
    window = dt.timedelta(days=rule.days or 90)
    renewed = Designation.objects.filter(
        enterprise=OuterRef("enterprise"),
        type=OuterRef("type"),
        valid_from__gt=OuterRef("valid_from"),
    )
    # A newer award of the same type already registered means the firm renewed it.
    designations = Designation.objects.filter(
        ~Exists(renewed),
        type__in=WATCHED_DESIGNATIONS,
        valid_to__gte=today - window,
        valid_to__lte=today + window,
    )
    for designation in designations.select_related("enterprise"):
        expired = designation.valid_to < today
        yield Condition(
            key=f"{rule.kind}:{designation.pk}",
            severity=Severity.CRITICAL if expired else rule.severity,
            owner_id=designation.enterprise.district_id,
            enterprise_id=designation.enterprise_id,
            designation_id=designation.pk,
            numbers={
                "type": designation.type,
                "valid_to": str(designation.valid_to),
                "expired": expired,
            },
            message=lambda d=designation, x=expired: (
                (
                    _("%(firm)s: %(type)s expired on %(date)s.")
                    if x
                    else _("%(firm)s: %(type)s expires on %(date)s.")
                )
                % {"firm": d.enterprise.name, "type": d.get_type_display(), "date": d.valid_to}
            ),
        )
