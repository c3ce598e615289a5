from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class SizeClass(models.TextChoices):
    MICRO = "micro", _("micro")
    SMALL = "small", _("small")
    MEDIUM = "medium", _("medium")
    LARGE = "large", _("large")


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    CLOSED = "closed", _("closed")
    MOVED_OUT = "moved_out", _("moved out")


class DesignationType(models.TextChoices):
    GAZELLE = "gazelle", _("gazelle enterprise")
    GAZELLE_CULTIVATION = "gazelle_cultivation", _("gazelle cultivation enterprise")
    UNICORN_CULTIVATION = "unicorn_cultivation", _("unicorn cultivation enterprise")
    LITTLE_GIANT = "little_giant", _('specialised and innovative "little giant"')
    SPECIALISED_SME = "specialised_sme", _("specialised and innovative SME")
    HIGH_TECH = "high_tech", _("high-tech enterprise")
    OTHER = "other", _("other designation")


class DesignationTier(models.TextChoices):
    NATIONAL = "national", _("national")
    PROVINCIAL = "provincial", _("provincial")
    CITY = "city", _("city")
    PARK = "park", _("park")


class ListingVenue(models.TextChoices):
    SSE_MAIN = "sse_main", _("Shanghai Stock Exchange main board")
    SZSE_MAIN = "szse_main", _("Shenzhen Stock Exchange main board")
    STAR = "star", _("STAR Market")
    CHINEXT = "chinext", _("ChiNext")
    BSE = "bse", _("Beijing Stock Exchange")
    HKEX = "hkex", _("Hong Kong Stock Exchange")
    OVERSEAS = "overseas", _("overseas exchange")
    NEEQ = "neeq", _("NEEQ (New Third Board) quotation")

    @classmethod
    def quotations(cls) -> tuple[str, ...]:
        """Venues where a firm is quoted but not listed: they never count as listings."""
        return (cls.NEEQ,)


class MilestoneKind(models.TextChoices):
    IPO_FILING_ACCEPTED = "ipo_filing_accepted", _("IPO filing accepted")
    LISTED = "listed", _("listed")
    FINANCING_ROUND = "financing_round", _("financing round")
    DESIGNATION_WON = "designation_won", _("designation won")
    DESIGNATION_LOST = "designation_lost", _("designation lost")
    PROJECT_STARTED = "project_started", _("major project started")
    MOVED_IN = "moved_in", _("moved into the cluster")
    MOVED_OUT = "moved_out", _("moved out of the cluster")
    OTHER = "other", _("other event")


class StatisticalScope(models.TextChoices):
    ABOVE_SIZE = "above_size", _("official statistics, above designated size")
    BELOW_SIZE = "below_size", _("official statistics, below designated size")
    SELF_REPORTED = "self_reported", _("reported by the firm")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    RETURNED = "returned", _("returned")

    @classmethod
    def editable(cls) -> tuple[str, ...]:
        """Statuses in which the district changes figures freely (an approved report changes
        only with a reason; a submitted one waits for review)."""
        return (cls.DRAFT, cls.RETURNED)


class EntryMode(models.TextChoices):
    QUARTERLY = "quarterly", _("quarterly values")
    YEAR_TO_DATE = "ytd", _("year-to-date (cumulative) values")


_UNIT_FACTORS = {"yuan": Decimal(1), "wan": Decimal(10_000), "yi": Decimal(100_000_000)}


class Unit(models.TextChoices):
    """The unit money figures are written in (an import file, the bulk API, the worksheet)."""

    YUAN = "yuan", _("yuan")
    WAN = "wan", _("¥10,000 (万元)")
    YI = "yi", _("¥100 m (亿元)")

    @property
    def factor(self) -> Decimal:
        return _UNIT_FACTORS[self]


class ProjectLevel(models.TextChoices):
    NATIONAL = "national", _("national")
    PROVINCIAL = "provincial", _("provincial")
    CITY = "city", _("city")


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    ONGOING = "ongoing", _("ongoing")
    COMPLETED = "completed", _("completed")
    TERMINATED = "terminated", _("terminated")
