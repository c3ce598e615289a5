"""The frame of the plan: the cluster, the org units it spans, parks and focus sectors."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.deconstruct import deconstructible
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .dbchecks import fixed_alphabet


@deconstructible
class PlainTextValidator:
    """A name is plain text: no markup (< >), no control characters, and it does not start
    like a spreadsheet formula (= + - @), which Excel would run when the name is exported."""

    code = "not_plain_text"

    def __call__(self, value: str) -> None:
        if re.search(r"[<>\x00-\x1f\x7f]", value):
            raise ValidationError(
                _("Names are plain text: remove < > and control characters."), code=self.code
            )
        if value.startswith(("=", "+", "-", "@")):
            raise ValidationError(
                _("A name cannot start with = + - or @ (spreadsheets run such text as a formula)."),
                code=self.code,
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator)


class BilingualNameMixin(models.Model):
    """Chinese name first; the English one is shown when the interface is in English."""

    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, validators=[PlainTextValidator()]
    )
    name_en = models.CharField(
        _("name (English)"), max_length=200, blank=True, validators=[PlainTextValidator()]
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name_zh


class Cluster(BilingualNameMixin):
    plan_start_year = models.PositiveSmallIntegerField(_("plan start year"))
    plan_end_year = models.PositiveSmallIntegerField(_("plan end year"))
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    issuer = models.CharField(_("issuing body"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        constraints = [
            models.CheckConstraint(
                condition=Q(plan_end_year__gte=F("plan_start_year")),
                name="cluster_plan_period_ordered",
                violation_error_message=_("The plan cannot end before it starts."),
            ),
            models.UniqueConstraint(fields=["name_zh"], name="cluster_name_unique"),
        ]


class District(BilingualNameMixin):
    """An org unit of the city: county-level city, district or development zone."""

    class Kind(models.TextChoices):
        COUNTY_CITY = "county_city", _("county-level city")
        DISTRICT = "district", _("district")
        DEVELOPMENT_ZONE = "development_zone", _("development zone")

    class CodeSystem(models.TextChoices):
        ADMINISTRATIVE = "gbt2260", _("GB/T 2260 administrative division code")
        STATISTICAL = "statistical", _("statistical code (not an administrative division)")

    # NULL, not "", for "no code": the unique constraint must not treat two such units alike.
    code = models.CharField(  # noqa: DJ001
        _("code"),
        max_length=6,
        null=True,
        blank=True,
        help_text=_("Six digits; empty for a management committee without its own code."),
    )
    code_system = models.CharField(
        _("code system"), max_length=16, choices=CodeSystem, blank=True, default=""
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="district_code_unique"),
            models.UniqueConstraint(fields=["name_zh"], name="district_name_unique"),
            models.CheckConstraint(
                condition=Q(code__isnull=True) | fixed_alphabet("code", 6, "0123456789"),
                name="district_code_six_digits",
                violation_error_message=_("A district code has exactly six digits."),
            ),
            models.CheckConstraint(
                condition=(Q(code__isnull=True) & Q(code_system=""))
                | (Q(code__isnull=False) & ~Q(code_system="")),
                name="district_code_has_system",
                violation_error_message=_("A code needs its code system, and only a code has one."),
            ),
        ]


class Park(BilingualNameMixin):
    """An industrial park or carrier inside a district, e.g. 苏州纳米城 in SIP."""

    district = models.ForeignKey(
        District, verbose_name=_("district"), on_delete=models.PROTECT, related_name="parks"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("park")
        verbose_name_plural = _("parks")
        ordering = ["district__sort_order", "name_zh"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name_zh"], name="park_name_unique"),
        ]


class SectorQuerySet(models.QuerySet):
    def directions(self):
        return self.filter(level=Sector.Level.DIRECTION)

    def materials(self):
        return self.filter(level=Sector.Level.MATERIAL)


class Sector(BilingualNameMixin):
    """Two-level tree: the plan's four focus directions and the materials under each."""

    class Level(models.IntegerChoices):
        DIRECTION = 1, _("focus direction")
        MATERIAL = 2, _("material")

    code = models.CharField(_("code"), max_length=10, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("focus direction"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="materials",
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where the plan names it.")
    )
    history = HistoricalRecords()

    objects = SectorQuerySet.as_manager()

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level=1) & Q(parent__isnull=True))
                | (Q(level=2) & Q(parent__isnull=False)),
                name="sector_two_level_tree",
                violation_error_message=_(
                    "A focus direction has no parent; a material belongs to a focus direction."
                ),
            ),
            models.UniqueConstraint(fields=["parent", "name_zh"], name="sector_name_unique"),
        ]

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent_id and self.parent.level != self.Level.DIRECTION:
            raise ValidationError({"parent": _("A material must sit under a focus direction.")})

    @property
    def direction(self) -> "Sector":
        return self.parent if self.parent_id else self


class Membership(models.Model):
    """Binds a user to an org unit. District officers and district administrators have a
    district; city stewards and city administrators have none. The role is the user's group
    (see cluster.access)."""

    user = models.OneToOneField(
        "auth.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="membership"
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        help_text=_("Empty for city level."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.district or _('city')}"


class PendingJob(models.Model):
    """A background job not yet handed to the broker (a transactional outbox).

    The row is written in the same transaction as the change that needs the job, so a
    committed change always has its job: sent right after the commit, or, when the broker is
    down, sent later by `dispatch_pending` (every minute from celery beat, and when a worker
    starts). Sent jobs are deleted."""

    task = models.CharField(_("task"), max_length=100)
    args = models.JSONField(_("arguments"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("pending background job")
        verbose_name_plural = _("pending background jobs")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)!r}"
