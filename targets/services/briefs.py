"""Official releases of a quarter's figures, and the quarterly brief sent to its subscribers.

A city steward marks the data vintage a brief was issued from as the official release
(`release_make`: the brief page's button and the admin both call it). The beat task then
sends the brief of each quarter's latest release to every subscriber, in the subscriber's
own scope (`brief_deliveries_send`). Each recipient of a release has one BriefDelivery row,
claimed (created, or taken back with a conditional update) before the e-mail goes out, so
two overlapping runs or a task redelivered after a worker died never send it twice; a
failure is recorded on the row and claimed again by the next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cluster.access import scope_of
from cluster.errors import InvalidParameter
from cluster.models import Cluster
from cluster.quarters import Quarter

from ..choices import AlertEvent, DeliveryStatus
from ..exports import brief_document, brief_filename
from ..models import BriefDelivery, BriefSubscription, Notification, Release
from ..selectors.brief import Brief, brief_scope_of
from ..selectors.dashboard import resolve_as_of, version_in_force

# A delivery claimed longer ago than this by a run that never finished (its worker died) is
# taken back by the next run; one brief is rendered and sent well within it.
STALE_CLAIM = dt.timedelta(minutes=15)
MIME = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def may_release(user) -> bool:
    """Who marks a vintage as the official release: those who approve the figures."""
    return scope_of(user).can_approve


def release_check(
    *, cluster: Cluster, quarter: Quarter, vintage: dt.datetime | None, today: dt.date
) -> dt.datetime:
    """The data version a release of `quarter` at `vintage` (None: the newest) would keep:
    the approved one in force at that moment (version_in_force), which the pages show for
    it, so the release reads exactly what the steward saw. Refused for a quarter not
    offered, a moment before any approved figures, or a version already released."""
    try:
        reading = resolve_as_of({"period": str(quarter)}, cluster=cluster, today=today)
    except InvalidParameter as refused:
        field = "quarter" if refused.name == "period" else refused.name
        raise ValidationError({field: refused.reason}) from None
    shown = version_in_force(reading.phase, quarter, vintage)
    if shown is None and vintage is None:
        raise ValidationError(
            {
                "vintage": _("%(quarter)s has no approved figures to release yet.")
                % {"quarter": quarter.label()}
            }
        )
    if shown is None:
        raise ValidationError(
            {
                "vintage": _(
                    "No approved data version of %(quarter)s was in force on %(moment)s; "
                    "choose a later moment."
                )
                % {
                    "quarter": quarter.label(),
                    "moment": formats.date_format(timezone.localtime(vintage), "DATETIME_FORMAT"),
                }
            }
        )
    if Release.objects.filter(
        cluster=cluster, year=quarter.year, quarter=quarter.quarter, vintage=shown
    ).exists():
        raise ValidationError({"vintage": _("This data version is already released.")})
    return shown


@transaction.atomic
def release_make(
    *,
    actor,
    cluster: Cluster,
    quarter: Quarter,
    vintage: dt.datetime | None,
    today: dt.date,
    now: dt.datetime,
    title: str = "",
    note: str = "",
) -> Release:
    """Mark the approved figures of `quarter` as known at `vintage` (None: the newest) as
    the cluster's official release (release_check says which data version is kept)."""
    if not may_release(actor):
        raise PermissionDenied
    release = Release(
        cluster=cluster,
        year=quarter.year,
        quarter=quarter.quarter,
        vintage=release_check(cluster=cluster, quarter=quarter, vintage=vintage, today=today),
        # No title given: none is kept, so that each reader sees the default in their language.
        title=title.strip(),
        note=note.strip(),
        made_by=actor,
        made_at=now,
    )
    release.full_clean()
    release._history_user = actor
    release.save()
    return release


@transaction.atomic
def subscription_save(
    *, actor, subscription: BriefSubscription, now: dt.datetime
) -> BriefSubscription:
    """Add or change a subscription to the quarterly brief (city stewards only)."""
    if not may_release(actor):
        raise PermissionDenied
    if subscription.pk is None:
        subscription.created_at = now
    subscription.full_clean()
    subscription._history_user = actor
    subscription.save()
    return subscription


# --- deliveries ------------------------------------------------------------------------------


@dataclass
class Recipient:
    """A user who receives a release, with the options of their subscriptions merged: one
    e-mail however many of their groups are subscribed."""

    user: object
    language: str
    attach_pdf: bool
    attach_xlsx: bool


def release_recipients(release: Release) -> dict[int, Recipient]:
    """The active users subscribed to the release's cluster, directly or through a group,
    by subscriptions that existed when the release was made. A user's own subscription
    gives the language; attachments are those of any of their subscriptions."""
    subscriptions = (
        BriefSubscription.objects.filter(
            cluster=release.cluster, active=True, created_at__lte=release.made_at
        )
        .select_related("user")
        .prefetch_related("group__user_set")
        .order_by(F("user").asc(nulls_last=True), "pk")
    )
    recipients: dict[int, Recipient] = {}
    for subscription in subscriptions:
        users = [subscription.user] if subscription.user else subscription.group.user_set.all()
        for user in users:
            if not user.is_active:
                continue
            known = recipients.get(user.pk)
            if known is None:
                recipients[user.pk] = Recipient(
                    user, subscription.language, subscription.attach_pdf, subscription.attach_xlsx
                )
            else:
                known.attach_pdf |= subscription.attach_pdf
                known.attach_xlsx |= subscription.attach_xlsx
    return recipients


def releases_to_deliver():
    """Each quarter's latest release: a release superseded by a later one of the same quarter
    is not sent any more."""
    later = Release.objects.filter(
        cluster=OuterRef("cluster"),
        year=OuterRef("year"),
        quarter=OuterRef("quarter"),
        made_at__gt=OuterRef("made_at"),
    )
    return Release.objects.filter(~Exists(later)).select_related("cluster").order_by("made_at")


def _claim(release: Release, recipient: Recipient, existing: BriefDelivery | None, now):
    """The delivery row, claimed for this run; None if it is done or another run holds it."""
    if existing is None:
        try:
            with transaction.atomic():
                return BriefDelivery.objects.create(
                    release=release,
                    recipient=recipient.user,
                    language=recipient.language,
                    status=DeliveryStatus.SENDING,
                    attempts=1,
                    claimed_at=now,
                )
        except IntegrityError:
            return None  # another run created it first
    retry = Q(status=DeliveryStatus.FAILED) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    claimed = BriefDelivery.objects.filter(
        retry, pk=existing.pk, attempts=existing.attempts
    ).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        claimed_at=now,
        language=recipient.language,
        error="",
    )
    if not claimed:
        return None
    existing.refresh_from_db()
    return existing


class _NoAddress(Exception):
    """The recipient has no e-mail address: the in-app copy is all they get."""


def _send(delivery: BriefDelivery, recipient: Recipient, today: dt.date) -> None:
    """Render the recipient's brief of the release and e-mail it; raises if it cannot."""
    release = delivery.release
    user = recipient.user
    scope = brief_scope_of(user, release.cluster)
    delivery.district = scope.district
    with translation.override(recipient.language):
        reading = resolve_as_of(
            {"period": str(release.period), "vintage": release.vintage.isoformat()},
            cluster=release.cluster,
            today=today,
        )
        brief = Brief(user, scope, reading, base_url=settings.SITE_URL)
        subject = _("%(title)s: %(scope)s") % {"title": release.name, "scope": scope.name}
        body = _(
            "The quarterly brief of %(cluster)s for %(scope)s, %(quarter)s, is attached "
            "(%(release)s).\n\nRead it online: %(url)s\n"
        ) % {
            "cluster": release.cluster.name,
            "scope": scope.name,
            "quarter": release.period.label(),
            "release": release.label,
            "url": settings.SITE_URL + delivery.get_absolute_url(),
        }
        if not user.email:
            raise _NoAddress
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        for fmt, wanted in (("pdf", recipient.attach_pdf), ("xlsx", recipient.attach_xlsx)):
            if wanted:
                message.attach(
                    brief_filename(brief, fmt, recipient.language),
                    brief_document(brief, fmt),
                    MIME[fmt],
                )
    message.send()


def brief_deliveries_send(*, now: dt.datetime, today: dt.date) -> dict[str, int]:
    """Send each latest release's brief to every recipient who has not had it yet, with an
    in-app copy; record a failure for the next run. Returns the counts by outcome."""
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    for release in releases_to_deliver():
        recipients = release_recipients(release)
        if not recipients:
            continue
        existing = {d.recipient_id: d for d in release.deliveries.filter(recipient__in=recipients)}
        for user_id, recipient in recipients.items():
            known = existing.get(user_id)
            if known is not None and known.status in (DeliveryStatus.SENT, DeliveryStatus.SKIPPED):
                continue
            delivery = _claim(release, recipient, known, now)
            if delivery is None:
                continue
            if brief_scope_of(recipient.user, release.cluster) is None:
                _finish(delivery, DeliveryStatus.SKIPPED, now, "")
                counts["skipped"] += 1
                continue
            try:
                _send(delivery, recipient, today)
            except _NoAddress:
                with translation.override(recipient.language):
                    note = _("No e-mail address: in-app only.")
                _finish(delivery, DeliveryStatus.SENT, now, note)
            except Exception as error:  # any failure is recorded and retried by the next run
                _finish(delivery, DeliveryStatus.FAILED, now, f"{type(error).__name__}: {error}")
                counts["failed"] += 1
                continue
            else:
                _finish(delivery, DeliveryStatus.SENT, now, "")
            counts["sent"] += 1
    return counts


@transaction.atomic
def _finish(delivery: BriefDelivery, status: str, now: dt.datetime, error: str) -> None:
    delivery.status = status
    delivery.error = error[:2000]
    if status == DeliveryStatus.SENT:
        delivery.sent_at = now
        Notification.objects.get_or_create(
            delivery=delivery,
            defaults={"user_id": delivery.recipient_id, "event": AlertEvent.BRIEF},
        )
    delivery.save(update_fields=["status", "error", "sent_at", "district"])
