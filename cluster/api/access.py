"""Permission and pagination of the API, apart from the other modules of cluster.api: DRF
reads these settings while its views module loads, so this module must not import them."""

from rest_framework import pagination, permissions

from ..access import scope_of


class ScopePermission(permissions.BasePermission):
    """Reading needs a role; writing needs the role's right that the view names in
    `write_right` (a Scope right of cluster.access; by default `can_edit`: district
    officer, steward). Which objects exist for the user is decided by the scoped querysets
    (404 otherwise)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        scope = scope_of(user)
        if scope.district_ids == frozenset():
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return getattr(scope, getattr(view, "write_right", "can_edit"))


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
