"""The in-app notification list (the alert centre itself is part of the dashboard)."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..models import Notification


def notification_list(request):
    notices = Notification.objects.filter(user=request.user).select_related(
        "alert__rule", "delivery__release__cluster", "delivery__district"
    )
    page = Paginator(notices, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "targets/notifications.html",
        {"page": page, "unread": notices.unread().count(), "section": "notifications"},
    )


@require_POST
def notifications_mark_read(request):
    Notification.objects.filter(user=request.user).unread().update(read_at=timezone.now())
    return redirect("targets:notifications")
