from .access import Role, role_of, scope_of


def user_scope(request):
    """The user's scope and role for the navigation (computed once per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = role_of(user)
    membership = getattr(user, "membership", None)
    return {
        "user_scope": scope_of(user),
        "user_role_label": Role(role).label if role else "",
        "user_district": membership.district if membership else None,
    }
