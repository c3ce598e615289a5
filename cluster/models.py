"""The frame of the plans: clusters and their plans over time, the org units they span, parks and
each cluster's focus sectors."""

import datetime as dt
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
    """An industrial innovation cluster of the city (纳米新材料, 光子, 生物医药 …). It has its own
    sector tree and its plans over time; the districts are the city's, shared by all."""

    key = models.SlugField(
        _("key"), max_length=40, unique=True, help_text=_("Short name in addresses, e.g. nano.")
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["sort_order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["name_zh"], name="cluster_name_unique"),
        ]


class PlanPhase(models.TextChoices):
    UPCOMING = "upcoming", _("not yet in force")
    IN_FORCE = "in_force", _("in force")
    ENDED = "ended", _("ended")


class PlanQuerySet(models.QuerySet):
    def in_force_on(self, day: dt.date):
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class Plan(BilingualNameMixin):
    """An action plan of a cluster for a period (e.g. 2023–2025): the document, its period, its
    targets (targets.Target) and how far behind the time-elapsed schedule counts as behind
    (序时进度 bands). Loaded from a plan file (docs/plan-files.md); nothing about a plan is in
    code. On any date a plan is upcoming, in force or ended (`phase_on`)."""

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="plans"
    )
    key = models.SlugField(_("key"), max_length=60, unique=True)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    issuer = models.CharField(_("issuing body"), max_length=200, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    starts_on = models.DateField(_("in force from"))
    ends_on = models.DateField(_("in force until"), help_text=_("The deadline of its targets."))
    baseline_year = models.PositiveSmallIntegerField(
        _("baseline year"), help_text=_("The year before the plan, its targets' starting point.")
    )
    schedule_bands = models.JSONField(
        _("schedule bands (序时进度)"),
        default=list,
        help_text=_("Points behind the time-elapsed schedule for each band, from the plan file."),
    )
    definition = models.TextField(
        _("plan file"), blank=True, help_text=_("The plan file as it was last loaded.")
    )
    history = HistoricalRecords(excluded_fields=["definition"])

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["cluster__sort_order", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="plan_period_ordered",
                violation_error_message=_("A plan cannot end before it starts."),
            ),
        ]

    def phase_on(self, day: dt.date) -> str:
        """The one owner of a plan's phase on a date."""
        if day < self.starts_on:
            return PlanPhase.UPCOMING
        if day > self.ends_on:
            return PlanPhase.ENDED
        return PlanPhase.IN_FORCE

    @property
    def years(self) -> str:
        return f"{self.starts_on.year}–{self.ends_on.year}"


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

    cluster = models.ForeignKey(
        Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="sectors"
    )
    code = models.CharField(_("code"), max_length=10)
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
        ordering = ["cluster__sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "code"], name="sector_code_unique"),
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
        if self.parent_id and self.parent.level != self.Level.DIRECTION:
            raise ValidationError({"parent": _("A material must sit under a focus direction.")})
        if self.parent_id and self.cluster_id and self.parent.cluster_id != self.cluster_id:
            raise ValidationError({"parent": _("A material sits in its direction's cluster.")})

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
