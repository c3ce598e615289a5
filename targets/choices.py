from django.db import models
from django.utils.translation import gettext_lazy as _

from enterprises.choices import DesignationType


class Status(models.TextChoices):
    ACHIEVED = "achieved", _("achieved")
    ON_TRACK = "on_track", _("on track")
    AT_RISK = "at_risk", _("at risk")
    OFF_TRACK = "off_track", _("off track")
    NOT_APPLICABLE = "", _("not applicable")


class ScopeKind(models.TextChoices):
    CITY = "city", _("city")
    DISTRICT = "district", _("district")
    SECTOR = "sector", _("focus direction")


class Basis(models.TextChoices):
    APPROVED = "approved", _("approved figures")
    PREVIEW = "preview", _("preview: submitted figures included")


class AlertKind(models.TextChoices):
    TARGET_OFF_TRACK = "target_off_track", _("target off track")
    TARGET_AT_RISK = "target_at_risk", _("target at risk")
    MILESTONE_MISSED = "milestone_missed", _("milestone missed")
    REPORT_OVERDUE = "report_overdue", _("quarterly reports overdue")
    FIGURE_JUMP = "figure_jump", _("anomalous change against the previous quarter or year")
    PEER_OUTLIER = "peer_outlier", _("outlier among firms of the same sector")
    DESIGNATION_EXPIRING = "designation_expiring", _("designation expiring or expired")
    THRESHOLD_CROSSED = "threshold_crossed", _("firm crossed an output threshold")
    DUPLICATE_FIRM = "duplicate_firm", _("possible duplicate firm")
    UNIT_MISTAKE = "unit_mistake", _("likely unit mistake (yuan vs 10k yuan)")


class Severity(models.IntegerChoices):
    INFO = 1, _("information")
    WARNING = 2, _("warning")
    CRITICAL = 3, _("critical")


class AlertState(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    SNOOZED = "snoozed", _("snoozed")
    RESOLVED = "resolved", _("resolved")


class AlertEvent(models.TextChoices):
    OPENED = "opened", _("opened")
    ESCALATED = "escalated", _("escalated")
    RESOLVED = "resolved", _("resolved")
    # Not an alert's event: the in-app copy of a quarterly brief sent to a subscriber.
    BRIEF = "brief", _("quarterly brief")


# Designations whose expiry the alert rule watches (firms drop out of counts unless renewed).
WATCHED_DESIGNATIONS = (
    DesignationType.GAZELLE,
    DesignationType.GAZELLE_CULTIVATION,
    DesignationType.UNICORN_CULTIVATION,
    DesignationType.LITTLE_GIANT,
    DesignationType.HIGH_TECH,
)


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed, retried on the next run")
    SKIPPED = "skipped", _("skipped: nothing in the recipient's scope")


class BriefLanguage(models.TextChoices):
    CHINESE = "zh-hans", "中文"
    ENGLISH = "en", "English"
