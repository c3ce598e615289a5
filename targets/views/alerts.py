"""The alert centre: filter alerts, acknowledge them with a comment, snooze, resolve: one
alert from its row's menu, or the checked ones together."""

import django_filters as filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cluster.access import get_or_refuse, scope_of
from cluster.errors import MAX_ID, parse_ids
from cluster.models import District

from ..choices import AlertKind, AlertState, Severity
from ..models import Alert
from ..services.alerts import (
    BULK_ACTIONS,
    alert_acknowledge,
    alert_resolve,
    alert_snooze,
    alerts_act,
)

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
        # Beyond any id: ignored.
        min_value=1,
        max_value=MAX_ID,
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
            "here": request.get_full_path(),
            "bulk_actions": [(action, ACTION_LABELS[action]) for action in BULK_ACTIONS],
        },
    )


ACTION_LABELS = {
    "acknowledge": _("Acknowledge"),
    "snooze": _("Snooze"),
    "resolve": _("Resolve"),
}


def _back(request) -> str:
    """Back to the list as it was filtered, never to another site."""
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("targets:alerts")


def _done(action: str, count: int) -> str:
    if action == "acknowledge":
        text = ngettext("%(count)d alert acknowledged.", "%(count)d alerts acknowledged.", count)
    elif action == "snooze":
        text = ngettext("%(count)d alert snoozed.", "%(count)d alerts snoozed.", count)
    else:
        text = ngettext("%(count)d alert resolved.", "%(count)d alerts resolved.", count)
    return text % {"count": count}


@require_POST
def alert_bulk(request):
    """Acknowledge, snooze or resolve the checked alerts with one comment, all or nothing,
    through targets.services.alerts. An alert outside the user's scope makes the request a
    404 (logged), as for one alert; a role that may not act gets the service's refusal."""
    if not scope_of(request.user).can_act_on_alerts:
        raise PermissionDenied
    ids = parse_ids(request.POST.getlist("alert"), "alert")
    visible = set(_alerts(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    for pk in ids:
        if pk not in visible:
            get_or_refuse(_alerts(request.user), Alert.objects.all(), request.user, pk=pk)
    action = request.POST.get("action", "")
    try:
        count = alerts_act(
            actor=request.user,
            alert_ids=ids,
            action=action,
            comment=request.POST.get("comment", ""),
            until=_snooze_date(request.POST.get("until", "")) if action == "snooze" else None,
        )
    except ValidationError as invalid:
        for error in invalid.messages:
            messages.error(request, error)
    else:
        messages.success(request, _done(action, count))
    return redirect(_back(request))


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
        return redirect(_back(request))
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
