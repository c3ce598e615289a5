from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from targets.plans.loading import plan_changes, plan_load
from targets.plans.reading import PlanFileError, read_plan_file
from targets.services.rules import may_change_rules


class Command(BaseCommand):
    help = (
        "Check a plan file (docs/plan-files.md), show what it changes, and load it: the cluster, "
        "the plan, its sector tree, targets and milestones. Loading the same file again changes "
        "nothing. With --dry-run nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the plan file (YAML or JSON)")
        parser.add_argument(
            "--user", required=True, help="the city steward the change is credited to"
        )
        parser.add_argument("--reason", default="", help="kept in the history (default: the file)")
        parser.add_argument("--dry-run", action="store_true", help="check and preview only")

    def handle(self, *args, path, user, reason, dry_run, **options):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None or not may_change_rules(actor):
            raise CommandError(f"{user} is not an active city steward")
        try:
            plan_file = read_plan_file(text)
        except PlanFileError as exc:
            raise CommandError("\n".join(str(error) for error in exc.errors)) from None
        loading = (
            plan_changes(plan_file)
            if dry_run
            else self._load(plan_file, actor, reason or f"plan file {Path(path).name}")
        )
        for change in loading.changes:
            if change.action == "unchanged":
                continue
            fields = ", ".join(f"{k}: {a} → {b}" for k, (a, b) in change.fields.items())
            self.stdout.write(f"{change.action:9} {change.what:9} {change.key}  {fields}".rstrip())
        if loading.errors:
            raise CommandError("\n".join(str(error) for error in loading.errors))
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            f"{Path(path).name}: {verb} {loading.count('create')} new, "
            f"{loading.count('update')} changed, {loading.count('unchanged')} unchanged, "
            f"{loading.count('kept')} kept."
        )

    def _load(self, plan_file, actor, reason):
        try:
            return plan_load(plan_file, actor=actor, reason=reason)
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(str(exc)) from None
