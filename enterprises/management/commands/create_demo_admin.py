from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"
PASSWORD = "nano-demo-2025"


class Command(BaseCommand):
    help = (
        f"Create the demo superuser '{USERNAME}' (password '{PASSWORD}') for a laptop demo; "
        "does nothing if the user exists. Never run this on a production database."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(username=USERNAME).exists():
            self.stdout.write(f"Demo admin '{USERNAME}' already exists.")
            return
        User.objects.create_superuser(USERNAME, "admin@example.invalid", PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"Created demo admin '{USERNAME}' / '{PASSWORD}'."))
