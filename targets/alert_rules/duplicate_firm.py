"""Firms registered twice under the same normalised name."""

from __future__ import annotations

from django.db.models import (
    Count,
    F,
    Value,
)
from django.db.models.functions import Replace
from django.utils.translation import gettext as _

from enterprises.models import Enterprise

from ..choices import AlertKind
from .registry import Condition, register


def _normalised_name():
    name = F("name_zh")
    for fragment, replacement in (
        ("股份有限公司", "有限公司"),
        ("（", "("),
        ("）", ")"),
        (" ", ""),
    ):
        name = Replace(name, Value(fragment), Value(replacement))
    return name


@register(AlertKind.DUPLICATE_FIRM)
def duplicate_firm(rule, today):
    duplicates = (
        Enterprise.objects.annotate(normalised=_normalised_name())
        .values("normalised")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in duplicates:
        firms = list(
            Enterprise.objects.annotate(normalised=_normalised_name())
            .filter(normalised=row["normalised"])
            .values("pk", "uscc", "district_id")
        )
        yield Condition(
            key=f"{rule.kind}:{row['normalised']}"[:200],
            severity=rule.severity,
            owner_id=None,
            enterprise_id=firms[0]["pk"],
            numbers={"name": row["normalised"], "usccs": [f["uscc"] for f in firms]},
            message=lambda r=row, f=firms: (
                _("%(count)d firms are registered under the name %(name)s: %(codes)s.")
                % {
                    "count": len(f),
                    "name": r["normalised"],
                    "codes": ", ".join(x["uscc"] for x in f),
                }
            ),
        )
