"""Firm register pages for officers: list, profile, registration and editing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cluster.access import get_visible_or_404, scope_of

from ..forms import (
    DesignationFormSet,
    EnterpriseForm,
    ListingFormSet,
    MembershipFormSet,
    MilestoneFormSet,
)
from ..imports import export_enterprises
from ..models import ClusterMembership, Enterprise
from ..services.register import enterprise_save
from ..uscc import uscc_problem

FORMSETS = (
    ("memberships", MembershipFormSet),
    ("designations", DesignationFormSet),
    ("listings", ListingFormSet),
    ("milestones", MilestoneFormSet),
)


def _listed(request):
    queryset = (
        Enterprise.objects.visible_to(request.user)
        .select_related("district")
        .prefetch_related(
            Prefetch(
                "memberships",
                ClusterMembership.objects.select_related("cluster", "sector").order_by(
                    "cluster__sort_order", "joined_on"
                ),
            )
        )
    )
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(
            Q(name_zh__icontains=search) | Q(name_en__icontains=search) | Q(uscc=search.upper())
        )
    return queryset.order_by("name_zh", "pk"), search


def enterprise_list(request):
    queryset, search = _listed(request)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "enterprises/list.html",
        {
            "page": page,
            "search": search,
            "can_edit": scope_of(request.user).can_edit,
            "section": "enterprises",
        },
    )


def _edit(request, enterprise):
    if not scope_of(request.user).can_edit:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    enterprise_existed = enterprise.pk is not None
    form = EnterpriseForm(data, instance=enterprise, user=request.user)
    formsets = [cls(data, instance=enterprise, prefix=prefix) for prefix, cls in FORMSETS]
    if data is not None and form.is_valid() and all(f.is_valid() for f in formsets):
        try:
            saved = enterprise_save(
                actor=request.user,
                writer=form,
                district=form.cleaned_data["district"],
                formsets=formsets,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            # The rows passed the same checks a moment ago; another user's save in between
            # (the same award or ticker) is reported here. Nothing was saved, so a new firm
            # is new again.
            if not enterprise_existed:
                enterprise.pk = None
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": saved.name})
            return redirect("targets:enterprise", pk=saved.pk)
    return render(
        request,
        "enterprises/form.html",
        {
            "form": form,
            "formset_sections": [(f.model._meta.verbose_name_plural, f) for f in formsets],
            "enterprise": enterprise,
            "section": "enterprises",
        },
        status=422 if data is not None else 200,
    )


def enterprise_create(request):
    return _edit(request, Enterprise())


def enterprise_edit(request, pk: int):
    return _edit(request, get_visible_or_404(Enterprise.objects, request.user, pk=pk))


def uscc_check(request):
    """As-you-type feedback on a USCC (htmx)."""
    code = request.GET.get("uscc", "").strip()
    current = request.GET.get("pk")
    problem = uscc_problem(code) if code else None
    taken = (
        not problem
        and code
        and Enterprise.objects.filter(uscc=code).exclude(pk=current or None).exists()
    )
    return render(
        request,
        "enterprises/_uscc_check.html",
        {"code": code, "problem": problem, "taken": taken},
    )


def enterprise_export(request, fmt: str):
    if fmt not in ("xlsx", "csv"):
        raise Http404
    queryset, _search = _listed(request)
    content, content_type = export_enterprises(queryset, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="enterprises.{fmt}"'
    return response
