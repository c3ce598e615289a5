from django import template

from cluster.formatting import percent as as_percent
from cluster.models import Cluster
from targets.models import Notification

register = template.Library()


@register.simple_tag
def city_clusters() -> list[Cluster]:
    """The clusters the navigation offers, in the city's order."""
    return list(Cluster.objects.order_by("sort_order", "key"))


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    user = context["request"].user
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user).unread().count()


@register.filter
def in_units(value, target):
    """A value of `target` as people read it: 亿元 / ¥ bn for money, a count otherwise."""
    return target.display_value(value, places=2)


@register.filter
def bar_width(share) -> str:
    """A share (0–1) as a CSS width in percent, capped at the bar's end."""
    if share is None:
        return "0"
    return f"{min(max(float(share), 0.0), 1.0) * 100:.1f}"


@register.filter
def percent(share, places=1) -> str:
    return as_percent(share, int(places))


@register.simple_tag(takes_context=True)
def with_params(context, **changes) -> str:
    """The current query string with some parameters changed (empty removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in ("", None):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
