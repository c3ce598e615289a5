"""The final evaluation (终期评估) of an ended plan, and the steward's button that closes it
(the same service as the admin action and the API action)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cluster import clock
from cluster.access import scope_of
from cluster.models import Plan
from enterprises.models import ReportingPolicy

from ..selectors.evaluation import evaluation_of, evaluation_shown
from ..selectors.plans import coverage, deadline_quarter
from ..services.evaluation import evaluation_close
from ..services.rules import may_change_rules


def _plan(request, cluster: str, plan: str) -> Plan:
    """An ended plan of the cluster. City-wide figures: a district user has none."""
    plan = get_object_or_404(Plan.objects.select_related("cluster"), cluster__key=cluster, key=plan)
    if not scope_of(request.user).is_city or not evaluation_shown(plan, clock.today()):
        raise Http404
    return plan


def _page(request, plan: Plan, *, note: str = "", errors=(), status: int = 200):
    evaluation = evaluation_of(plan)
    quarter = deadline_quarter(plan)
    covered = coverage(
        {plan.cluster_id: [quarter]},
        needed=ReportingPolicy.current().official_share,
        moment=clock.now(),
    )[(plan.cluster_id, quarter)]
    history = (
        evaluation.record.history.select_related("history_user").order_by("-history_date")
        if evaluation.record
        else []
    )
    return render(
        request,
        "dashboard/evaluation.html",
        {
            "plan": plan,
            "cluster": plan.cluster,
            "page_cluster": plan.cluster,
            "evaluation": evaluation,
            "coverage": covered,
            "history": history,
            "can_close": may_change_rules(request.user) and not evaluation.is_closed,
            "note": note,
            "errors": errors,
            "section": "dashboard",
        },
        status=status,
    )


def evaluation_page(request, cluster: str, plan: str):
    return _page(request, _plan(request, cluster, plan))


@require_POST
def evaluation_close_page(request, cluster: str, plan: str):
    plan = _plan(request, cluster, plan)
    note = request.POST.get("note", "")
    if not may_change_rules(request.user):
        raise PermissionDenied
    try:
        evaluation_close(actor=request.user, plan=plan, note=note, today=clock.today())
    except ValidationError as refused:
        return _page(request, plan, note=note, errors=refused.messages, status=422)
    messages.success(request, _("The final evaluation is closed: its figures are frozen."))
    return redirect("targets:evaluation", cluster=plan.cluster.key, plan=plan.key)
