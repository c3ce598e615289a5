from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

from cluster.access import Role
from cluster.models import District, Membership

PASSWORD = "nano-demo-2025"
# username, role (None for the superuser), district code (None for city level), staff
USERS = [
    ("admin", None, None, True),
    ("steward", Role.CITY_STEWARD, None, True),
    ("officer_sip", Role.DISTRICT_OFFICER, "320571", False),
    ("officer_kunshan", Role.DISTRICT_OFFICER, "320583", False),
    ("viewer", Role.ADMINISTRATOR, None, False),
    ("viewer_sip", Role.ADMINISTRATOR, "320571", False),
]


class Command(BaseCommand):
    help = (
        f"Create demo users for a laptop demo, all with password '{PASSWORD}': "
        + ", ".join(name for name, *_ in USERS)
        + ". Existing users are left alone. Never run this on a production database."
    )

    def handle(self, *args, **options):
        for username, role, district_code, staff in USERS:
            if User.objects.filter(username=username).exists():
                continue
            # No e-mail addresses: a laptop demo would print every alert e-mail to the
            # console. Notifications still show in the app.
            if role is None:
                User.objects.create_superuser(username, "", PASSWORD)
            else:
                user = User.objects.create_user(username, "", PASSWORD, is_staff=staff)
                user.groups.add(Group.objects.get(name=role))
                Membership.objects.create(
                    user=user,
                    district=District.objects.get(code=district_code) if district_code else None,
                )
            self.stdout.write(f"  {username} / {PASSWORD}")
        self.stdout.write(self.style.SUCCESS("Demo users ready."))
