"""The alert centre: filter alerts, acknowledge them with a comment, snooze, resolve."""

import django_filters as filters
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cluster.access import get_or_refuse, scope_of
from cluster.models import District

from ..choices import AlertKind, AlertState, Severity
from ..models import Alert
from ..services.alerts import alert_acknowledge, alert_resolve, alert_snooze

ALERTS_PER_PAGE = 30
ACTIVE = "active"


class AlertCentreFilter(filters.FilterSet):
    state = filters.ChoiceFilter(
        label=_("State"),
        choices=[(ACTIVE, _("active (not resolved)")), *AlertState.choices],
        method="in_state",
        empty_label=_("all"),
    )
    severity = filters.ChoiceFilter(
        label=_("Severity"), choices=Severity.choices, empty_label=_("all")
    )
    rule = filters.ChoiceFilter(
        label=_("Rule"), field_name="rule__kind", choices=AlertKind.choices, empty_label=_("all")
    )
    district = filters.ModelChoiceFilter(
        label=_("District"),
        queryset=District.objects.none(),
        method="of_district",
        empty_label=_("all"),
    )
    enterprise = filters.NumberFilter(
        field_name="enterprise_id",
        widget=filters.widgets.forms.HiddenInput,
        # Beyond any id (SQLite cannot even compare with a larger integer): ignored.
        min_value=1,
        max_value=2**63 - 1,
    )

    class Meta:
        model = Alert
        fields = ["state", "severity", "rule", "district", "enterprise"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("state", ACTIVE)
        super().__init__(data, *args, **kwargs)
        self.filters["district"].queryset = scope_of(user).filter(
            District.objects.order_by("sort_order"), "pk"
        )

    def in_state(self, queryset, name, value):
        if value == ACTIVE:
            return queryset.active()
        return queryset.filter(state=value)

    def of_district(self, queryset, name, value):
        return queryset.filter(Q(owner=value) | Q(district=value))


def _alerts(user):
    return Alert.objects.visible_to(user).select_related(
        "rule", "owner", "district", "enterprise", "target", "acknowledged_by"
    )


def alert_list(request):
    alerts = AlertCentreFilter(
        request.GET,
        queryset=_alerts(request.user).order_by("-severity", "-opened_at", "-pk"),
        user=request.user,
    )
    page = Paginator(alerts.qs, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/alerts.html",
        {
            "filter": alerts,
            "page": page,
            "section": "alerts",
            "can_act": scope_of(request.user).can_act_on_alerts,
        },
    )


ACTIONS = {
    "acknowledge": lambda user, alert, data: alert_acknowledge(
        actor=user, alert_id=alert.pk, comment=data.get("comment", "")
    ),
    "snooze": lambda user, alert, data: alert_snooze(
        actor=user,
        alert_id=alert.pk,
        until=_snooze_date(data.get("until", "")),
        comment=data.get("comment", ""),
    ),
    "resolve": lambda user, alert, data: alert_resolve(
        actor=user, alert_id=alert.pk, comment=data.get("comment", "")
    ),
}


def _snooze_date(text: str):
    day = parse_date(text.strip()) if text else None
    if day is None:
        raise ValidationError({"until": _("Give the date to snooze until (YYYY-MM-DD).")})
    return day


@require_POST
def alert_act(request, pk: int, action: str):
    """Acknowledge, snooze or resolve one alert; htmx swaps the alert's row in place.
    Another district's alert is a 404; a role that may not act on alerts gets the
    service's refusal (403)."""
    act = ACTIONS.get(action)
    if act is None:
        raise Http404
    alert = get_or_refuse(_alerts(request.user), Alert.objects.all(), request.user, pk=pk)
    errors, status = [], 200
    try:
        act(request.user, alert, request.POST)
    except ValidationError as invalid:
        errors, status = invalid.messages, 422
    if not request.headers.get("HX-Request"):
        for error in errors:
            messages.error(request, error)
        return redirect(request.POST.get("next") or "targets:alerts")
    return render(
        request,
        "dashboard/_alert.html",
        {
            "alert": _alerts(request.user).get(pk=pk),
            "errors": errors,
            "acted": not errors,
            "can_act": scope_of(request.user).can_act_on_alerts,
        },
        status=status,
    )
