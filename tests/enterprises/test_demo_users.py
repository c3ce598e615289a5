import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from cluster.access import scope_of

pytestmark = pytest.mark.django_db


def test_demo_users_have_their_roles_and_districts():
    call_command("create_demo_users")
    call_command("create_demo_users")  # a second run leaves them alone
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == {
        "admin",
        "steward",
        "officer_sip",
        "officer_kunshan",
        "viewer",
        "viewer_sip",
    }
    assert users["admin"].is_superuser and users["admin"].check_password("nano-demo-2025")
    sip = scope_of(users["officer_sip"])
    assert (sip.can_edit, sip.can_approve, len(sip.district_ids)) == (True, False, 1)
    assert scope_of(users["steward"]).can_approve and scope_of(users["steward"]).is_city
    viewer = scope_of(users["viewer"])
    assert (viewer.is_city, viewer.can_edit) == (True, False)
    assert scope_of(users["viewer_sip"]).district_ids == sip.district_ids
