"""Briefs that arrive by themselves: a steward subscribes users or groups to the quarterly
brief; once a quarter is released, the beat task sends each recipient the brief of their own
scope (PDF and workbook), with an in-app copy and a delivery record, once per release and
recipient; a failure is recorded and retried by the next run."""

import datetime as dt
import email
import email.policy
import io
import zoneinfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cluster import clock
from cluster.models import Cluster
from cluster.quarters import Quarter
from targets.choices import DeliveryStatus
from targets.models import BriefDelivery, BriefSubscription, Notification
from targets.services.briefs import brief_deliveries_send, release_make, subscription_save

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SUBSCRIBED_AT = dt.datetime(2025, 7, 15, 9, tzinfo=SHANGHAI)
RELEASED_AT = dt.datetime(2025, 7, 20, 10, tzinfo=SHANGHAI)


def subscribe_readers(steward, users, *, name="季报读者") -> Group:
    group = Group.objects.create(name=name)
    group.user_set.add(*users)
    subscription_save(
        actor=steward,
        subscription=BriefSubscription(cluster=Cluster.objects.get(key="nano"), group=group),
        now=SUBSCRIBED_AT,
    )
    return group


def release_2025q2(steward):
    return release_make(
        actor=steward,
        cluster=Cluster.objects.get(key="nano"),
        quarter=Quarter(2025, 2),
        vintage=None,
        title="2025年第二季度季报",
        today=clock.today(),
        now=RELEASED_AT,
    )


@pytest.fixture
def readers(officer_sip, officer_kunshan, city_viewer):
    for user, address in (
        (officer_sip, "sip@example.cn"),
        (officer_kunshan, "kunshan@example.cn"),
        (city_viewer, "city@example.cn"),
    ):
        user.email = address
        user.save()
    return {
        "sip@example.cn": "苏州工业园区",
        "kunshan@example.cn": "昆山市",
        "city@example.cn": "全市",
    }


# Year-to-date output of 2025Q2 in 亿元 for each scope (tests/targets/conftest.py population).
OUTPUT = {"苏州工业园区": 26, "昆山市": 6, "全市": 32}


def assert_brief_of_scope(message, scope: str) -> None:
    """The e-mail carries a PDF and a workbook of the recipient's scope and its figures."""
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert sorted(name.rsplit(".", 1)[1] for name in attachments) == ["pdf", "xlsx"]
    pdf = next(part for name, part in attachments.items() if name.endswith(".pdf"))
    assert pdf.get_content().startswith(b"%PDF")
    xlsx = next(part for name, part in attachments.items() if name.endswith(".xlsx"))
    workbook = load_workbook(io.BytesIO(xlsx.get_content()))
    title = workbook.worksheets[0]["A1"].value
    assert f"运行形势分析：{scope}，2025年第2季度" in title
    cells = [c.value for row in workbook.worksheets[0].iter_rows() for c in row if c.value]
    assert any(f"{OUTPUT[scope]:.2f} 亿元" in str(value) for value in cells), cells


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_released_briefs_reach_each_recipient_in_their_scope_through_the_worker(
    population, city_steward, officer_sip, officer_kunshan, city_viewer, readers, tmp_path
):
    from django.conf import settings

    from cluster.celery import app
    from tests.services import start_worker, stop, wait_for

    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("This test needs the Redis broker: run it with `make test`.")
    subscribe_readers(city_steward, [officer_sip, officer_kunshan, city_viewer])
    # The SIP officer is in a second subscribed group too: still one e-mail.
    subscribe_readers(city_steward, [officer_sip], name="园区读者")
    release_2025q2(city_steward)
    app.control.purge()  # tasks queued by earlier tests refer to rows that are gone
    worker = start_worker(
        settings.CELERY_BROKER_URL,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path),
    )
    try:
        # Two beat runs overlapping.
        app.send_task("targets.send_brief_deliveries")
        app.send_task("targets.send_brief_deliveries")

        def all_sent():
            """three deliveries sent"""
            return BriefDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 3

        wait_for(all_sent, 240)
        wait_for(lambda: idle(app), 120, "the worker has run both tasks")
        first = messages_in(tmp_path)
        app.send_task("targets.send_brief_deliveries")
        wait_for(lambda: idle(app), 120, "the worker has run the third task")
    finally:
        stop(worker)
    assert sorted(m["To"] for m in first) == sorted(readers)
    for message in first:
        assert message["Subject"] == f"2025年第二季度季报：{readers[message['To']]}"
        assert_brief_of_scope(message, readers[message["To"]])
    assert len(messages_in(tmp_path)) == 3  # the third run sent nothing more
    deliveries = BriefDelivery.objects.select_related("recipient", "district")
    assert sorted((d.recipient.email, d.scope_name, d.attempts) for d in deliveries) == sorted(
        (address, scope, 1) for address, scope in readers.items()
    )
    assert Notification.objects.filter(delivery__isnull=False).count() == 3


def idle(app) -> bool:
    """Nothing waits in the queue and the worker runs nothing (a solo worker answers the
    inspection only between tasks)."""
    replies = app.control.inspect(timeout=2).active()
    with app.connection_for_write() as connection:
        waiting = connection.default_channel.client.llen("celery")
    return bool(replies) and not any(replies.values()) and waiting == 0


def messages_in(directory) -> list:
    separator = b"\n" + b"-" * 79 + b"\n"
    found = []
    for path in directory.iterdir():
        for raw in path.read_bytes().split(separator):
            if raw.strip():
                found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


# --- the same rules in-process (eager, locmem e-mail) ----------------------------------------


@pytest.fixture
def released(population, city_steward, officer_sip, officer_kunshan, city_viewer, readers):
    subscribe_readers(city_steward, [officer_sip, officer_kunshan, city_viewer])
    subscribe_readers(city_steward, [officer_sip], name="园区读者")
    return release_2025q2(city_steward)


def run():
    return brief_deliveries_send(now=timezone.now(), today=clock.today())


@pytest.mark.django_db
def test_each_recipient_gets_their_scope_once_with_an_in_app_copy(
    client, released, officer_kunshan
):
    assert run() == {"sent": 3, "failed": 0, "skipped": 0}
    assert run() == {"sent": 0, "failed": 0, "skipped": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["sip@example.cn", "kunshan@example.cn", "city@example.cn"]
    )
    notice = Notification.objects.get(user=officer_kunshan)
    client.force_login(officer_kunshan)
    page = client.get(reverse("targets:notifications")).content.decode()
    link = notice.delivery.get_absolute_url()
    assert f'href="{link.replace("&", "&amp;")}"' in page
    assert "2025年第二季度季报 · 昆山市" in page
    brief = client.get(link).content.decode()
    assert "正式发布版本" in brief and "运行形势分析：昆山市，2025年第2季度" in brief


@pytest.mark.django_db
def test_a_failed_delivery_is_recorded_and_retried_on_the_next_run(released):
    refused = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    with override_settings(MAILERS=refused):
        assert run() == {"sent": 0, "failed": 3, "skipped": 0}
    failed = BriefDelivery.objects.filter(status=DeliveryStatus.FAILED)
    assert failed.count() == 3
    assert all("Connection" in d.error or "refused" in d.error for d in failed)
    assert Notification.objects.filter(delivery__isnull=False).count() == 0
    assert run() == {"sent": 3, "failed": 0, "skipped": 0}
    assert sorted(BriefDelivery.objects.values_list("status", "attempts")) == [("sent", 2)] * 3
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_delivery_another_run_holds_is_left_to_it_until_its_claim_is_stale(released, officer_sip):
    now = timezone.now()
    BriefDelivery.objects.create(
        release=released,
        recipient=officer_sip,
        language="zh-hans",
        status=DeliveryStatus.SENDING,
        attempts=1,
        claimed_at=now,
    )
    assert run()["sent"] == 2
    assert "sip@example.cn" not in [m.to[0] for m in mail.outbox]
    # Its worker died: after the claim went stale, the next run takes it back.
    BriefDelivery.objects.filter(recipient=officer_sip).update(
        claimed_at=now - dt.timedelta(minutes=16)
    )
    assert run()["sent"] == 1
    assert [m.to[0] for m in mail.outbox].count("sip@example.cn") == 1


@pytest.mark.django_db
def test_a_subscription_names_a_user_or_a_group_never_both(city_steward, officer_sip):
    from django.core.exceptions import ValidationError

    group = Group.objects.create(name="读者")
    nano = Cluster.objects.get(key="nano")
    for user, group_ in ((officer_sip, group), (None, None)):
        with pytest.raises(ValidationError) as refused:
            subscription_save(
                actor=city_steward,
                subscription=BriefSubscription(cluster=nano, user=user, group=group_),
                now=timezone.now(),
            )
        assert "请选择一个用户或一个用户组，二者只能选其一。" in refused.value.messages
    assert BriefSubscription.objects.count() == 0


@pytest.mark.django_db
def test_an_english_subscription_sends_the_brief_in_english(city_steward, city_viewer, released):
    BriefSubscription.objects.update(language="en")
    run()
    message = next(m for m in mail.outbox if m.to == ["city@example.cn"])
    assert message.subject == "2025年第二季度季报: Whole city"
    names = [name for name, _content, _mime in message.attachments]
    assert sorted(names) == ["brief-nano-2025Q2-city-en.pdf", "brief-nano-2025Q2-city-en.xlsx"]


@pytest.mark.django_db
def test_the_notification_list_takes_the_same_queries_whatever_the_number_of_briefs(
    client, released, officer_sip
):
    client.force_login(officer_sip)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("targets:notifications")).status_code == 200
        return len(captured)

    run()
    one = queries()
    later = release_make(
        actor=released.made_by,
        cluster=released.cluster,
        quarter=Quarter(2025, 1),
        vintage=None,
        title="2025年第一季度季报",
        today=clock.today(),
        now=timezone.now(),
    )
    run()
    assert later.deliveries.filter(recipient=officer_sip, status="sent").exists()
    assert Notification.objects.filter(user=officer_sip).count() == 2
    assert queries() == one
