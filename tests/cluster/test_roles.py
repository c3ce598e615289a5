"""The roles' groups agree with their rights in cluster.access: the read-only administrator's
group holds view permissions only, so no admin page built on model permissions offers it a
write."""

import pytest
from django.contrib.auth.models import Group

from cluster.access import Role, Scope, scope_of

pytestmark = pytest.mark.django_db


def test_the_read_only_administrators_group_may_only_view():
    codenames = Group.objects.get(name=Role.ADMINISTRATOR).permissions.values_list(
        "codename", flat=True
    )
    assert sorted(c for c in codenames if not c.startswith("view_")) == []


@pytest.mark.parametrize(
    ("role", "edit", "approve", "alerts"),
    [
        ("officer_sip", True, False, True),
        ("city_steward", True, True, True),
        ("city_viewer", False, False, False),
        ("sip_viewer", False, False, False),
    ],
)
def test_each_roles_rights(request, role, edit, approve, alerts):
    scope: Scope = scope_of(request.getfixturevalue(role))
    assert (scope.can_edit, scope.can_approve, scope.can_act_on_alerts) == (edit, approve, alerts)
