"""Defects the tester found in releases, the brief's exports and their words: the workbook of
a monitored quarter, a release of a moment before any data, titles frozen in the steward's
language, a refused release of a quarter not offered, the admin's English names."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from cluster import clock
from cluster.models import Cluster
from cluster.quarters import Quarter
from targets.models import BriefDelivery, BriefSubscription, Release, TargetShare
from targets.services.briefs import brief_deliveries_send, release_make, subscription_save

from .conftest import YI
from .test_pickers import options

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime(2026, 11, 30, 12, tzinfo=SHANGHAI)


@pytest.fixture
def on_2026_11_30():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.mark.usefixtures("on_2026_11_30")
@pytest.mark.parametrize(
    ("language", "sheet", "label", "year_ago"),
    [
        ("zh-hans", "监测指标", "集群企业", 32),  # 亿元
        ("en", "Monitored figures", "Firms in the cluster", 3.2),  # ¥ bn
    ],
)
def test_the_workbook_of_a_monitored_quarter_names_its_figures(
    client, city_viewer, population, language, sheet, label, year_ago
):
    client.force_login(city_viewer)
    response = client.get(
        reverse("targets:brief-download", args=["nano", "2026Q2", "xlsx"]), {"lang": language}
    )
    rows = {
        row[0]: row[1:3]
        for row in load_workbook(io.BytesIO(response.content))[sheet].iter_rows(
            min_row=2, values_only=True
        )
    }
    # The three firms are still in the cluster, as they were a year before.
    assert rows[label] == (3, 3)
    output = next(values for name, values in rows.items() if name.endswith(("亿元)", "¥ bn)")))
    assert output == (0, year_ago)  # nothing reported for 2026 yet; 2025H1 was 32 亿元


def release_2026q2(client, steward, vintage: str):
    client.force_login(steward)
    return client.post(
        reverse("targets:brief-release", args=["nano", "2026Q2"]), {"vintage": vintage}, follow=True
    )


@pytest.mark.usefixtures("on_2026_11_30")
@pytest.mark.parametrize("period", ["2026Q2", "2025Q2"])
def test_a_moment_before_any_data_is_not_released(client, city_steward, population, period):
    client.force_login(city_steward)
    response = client.post(
        reverse("targets:brief-release", args=["nano", period]),
        {"vintage": "2020-01-01T00:00"},
        follow=True,
    )
    assert "数据版本" in response.content.decode()
    assert "2020年1月1日" in response.content.decode()
    assert Release.objects.count() == 0


@pytest.mark.usefixtures("on_2026_11_30")
def test_a_release_keeps_the_version_in_force_and_the_picker_names_the_real_newest(
    client, city_steward, population, approve
):
    approve(population["a"], 2025, 3, 10 * YI)  # approved on 2025-10-10
    # Between plans the data version is the last approval known at the moment asked for.
    release_2026q2(client, city_steward, "2025-08-01T00:00")
    release = Release.objects.get()
    assert release.vintage == dt.datetime(2025, 7, 10, tzinfo=SHANGHAI)
    html = client.get(
        reverse("targets:brief", args=["nano", "2026Q2"]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    offered = [(text.strip(), selected) for _v, selected, text in options(html, "brief-vintage")]
    assert offered == [
        ("正式发布：2026年第2季度季报（2026年11月30日）", True),
        ("2025年10月10日 00:00（最新）", False),
    ]


@pytest.mark.usefixtures("on_2026_11_30")
def test_a_release_titled_by_no_one_reads_in_the_readers_language(
    client, city_steward, city_viewer, population
):
    release_make(
        actor=city_steward,
        cluster=Cluster.objects.get(key="nano"),
        quarter=Quarter(2025, 2),
        vintage=None,
        today=clock.today(),
        now=timezone.now(),
    )
    assert Release.objects.get().title == ""
    client.force_login(city_viewer)
    page = reverse("targets:brief", args=["nano", "2025Q2"])
    english = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Official release: 2025 Q2 quarterly brief" in english and "季报" not in english
    assert "正式发布：2025年第2季度季报" in chinese


@pytest.mark.usefixtures("on_2026_11_30")
def test_an_english_reader_gets_an_english_subject_and_note(city_steward, city_viewer, population):
    city_viewer.email = "city@example.cn"
    city_viewer.save()
    no_address = city_steward
    for user in (city_viewer, no_address):
        subscription_save(
            actor=city_steward,
            subscription=BriefSubscription(
                cluster=Cluster.objects.get(key="nano"), user=user, language="en"
            ),
            now=timezone.now() - dt.timedelta(hours=1),
        )
    with translation.override("zh-hans"):
        release_make(
            actor=city_steward,
            cluster=Cluster.objects.get(key="nano"),
            quarter=Quarter(2025, 2),
            vintage=None,
            today=clock.today(),
            now=timezone.now(),
        )
        brief_deliveries_send(now=timezone.now(), today=clock.today())
    [message] = mail.outbox
    assert message.subject == "2025 Q2 quarterly brief: Whole city"
    assert BriefDelivery.objects.get(recipient=no_address).error == (
        "No e-mail address: in-app only."
    )


@pytest.mark.usefixtures("on_2026_11_30")
def test_a_refused_release_of_a_quarter_not_offered_lands_on_the_latest_brief(
    client, city_steward, population
):
    client.force_login(city_steward)
    response = client.post(reverse("targets:brief-release", args=["nano", "2100Q4"]), follow=True)
    assert response.redirect_chain[0][0] == reverse("targets:brief-latest", args=["nano"])
    assert response.status_code == 200
    assert "2100年第4季度" in response.content.decode()
    assert Release.objects.count() == 0


def test_the_english_admin_names_target_breakdowns_in_english():
    with translation.override("en"):
        assert str(TargetShare._meta.verbose_name_plural) == "target breakdowns"
    with translation.override("zh-hans"):
        assert str(TargetShare._meta.verbose_name_plural) == "目标任务分解"


def test_default_titles_frozen_before_are_forgotten_and_a_stewards_title_kept(
    city_steward, population
):
    from django.apps import apps
    from django.utils.module_loading import import_string

    forget = import_string(
        "targets.migrations.0017_release_default_titles_forgotten.forget_default_titles"
    )
    for quarter, title in (
        (1, "2025年第1季度季报"),
        (2, "2025 Q2 quarterly brief"),
        (3, "三季度快报"),
    ):
        Release.objects.create(
            cluster=Cluster.objects.get(key="nano"),
            year=2025,
            quarter=quarter,
            vintage=TODAY,
            title=title,
            made_by=city_steward,
            made_at=TODAY,
        )
    forget(apps, None)
    assert list(Release.objects.order_by("quarter").values_list("title", flat=True)) == [
        "",
        "",
        "三季度快报",
    ]
