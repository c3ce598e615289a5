"""cluster.bulk.insert_new, the imports' write path: COPY with keys from the sequence on
PostgreSQL, bulk_create elsewhere — the same rows either way."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from cluster.bulk import BATCH, cycle_collection_paused, insert_new, new_instances
from cluster.models import PendingJob
from enterprises.choices import ReportStatus
from enterprises.models import QuarterlyReport

pytestmark = pytest.mark.django_db

# Set by the database or by the write itself, not by the caller.
OWN = {"id", "quarter", "updated_at"}


def report(firm, quarter: int, actor) -> QuarterlyReport:
    return QuarterlyReport(
        enterprise=firm,
        year=2025,
        quarter=quarter,
        output_value=Decimal("123456789.12"),
        operating_revenue=None,
        rd_spending=Decimal("0.50"),
        employees=17,
        anomaly_note='新产线投产，产值环比增长；引号 " 与制表符\t也照存',
        entered_by=actor,
        figures_changed_by=actor,
    )


def test_the_rows_are_those_bulk_create_writes_and_the_keys_go_on(enterprise_factory, steward):
    firm = enterprise_factory()
    copied = [report(firm, 1, steward), report(firm, 2, steward)]
    created = report(firm, 3, steward)
    insert_new(QuarterlyReport, copied)
    QuarterlyReport.objects.bulk_create([created])
    assert all(r.pk for r in copied) and copied[0].pk != copied[1].pk
    stored = {r.quarter: r for r in QuarterlyReport.objects.filter(enterprise=firm)}
    assert stored[1].pk == copied[0].pk and stored[2].pk == copied[1].pk
    expected = {k: v for k, v in model_to_dict(stored[3]).items() if k not in OWN}
    for quarter in (1, 2):
        assert {k: v for k, v in model_to_dict(stored[quarter]).items() if k not in OWN} == expected
        # Defaults from the model (status, version, scope) and the auto_now stamp.
        assert stored[quarter].status == "draft" and stored[quarter].version == 1
        assert stored[quarter].updated_at is not None
    assert stored[1].anomaly_note.endswith("制表符\t也照存")
    # The instances are saved ones: a later save updates, and a new row takes the next key.
    copied[0].employees = 18
    copied[0].save(update_fields=["employees"])
    assert QuarterlyReport.objects.get(pk=copied[0].pk).employees == 18
    later = QuarterlyReport.objects.create(enterprise=firm, year=2025, quarter=4)
    assert later.pk > max(r.pk for r in copied)


def test_nothing_to_insert_sends_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_new(QuarterlyReport, [])


def test_a_duplicate_is_django_s_integrity_error_and_writes_nothing(enterprise_factory, steward):
    """The import's retry of two identical files at once catches IntegrityError: COPY's
    unique violation must be one too, and none of the batch stays."""
    firm = enterprise_factory()
    insert_new(QuarterlyReport, [report(firm, 1, steward)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new(QuarterlyReport, [report(firm, 2, steward), report(firm, 1, steward)])
    assert list(
        QuarterlyReport.objects.filter(enterprise=firm).values_list("quarter", flat=True)
    ) == [1]


def test_values_go_as_their_fields_send_them(enterprise_factory, steward):
    """Each value through its field, as bulk_create sends it: a naive datetime is read in
    the site's zone (Asia/Shanghai), not written as if it were UTC; a JSON field's list is
    JSON."""
    firm = enterprise_factory()
    naive = dt.datetime(2025, 4, 10, 9, 30)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        copied, created = report(firm, 1, steward), report(firm, 2, steward)
        copied.approved_at = created.approved_at = naive
        insert_new(QuarterlyReport, [copied])
        QuarterlyReport.objects.bulk_create([created])
    stored = QuarterlyReport.objects.filter(enterprise=firm).order_by("quarter")
    assert [timezone.localtime(r.approved_at).replace(tzinfo=None) for r in stored] == [naive] * 2

    jobs = [PendingJob(task="targets.recompute", args=[2025, 3, "二季度"])]
    insert_new(PendingJob, jobs)
    assert PendingJob.objects.get(pk=jobs[0].pk).args == [2025, 3, "二季度"]
    assert PendingJob.objects.get(pk=jobs[0].pk).created_at is not None


def test_new_instances_are_those_the_model_makes(enterprise_factory, steward):
    """Built through the positional path: the same attributes as `model(**row)`, every other
    field its default, a callable default called for each instance (not one list shared)."""
    firm = enterprise_factory()
    row = {
        "enterprise_id": firm.pk,
        "year": 2025,
        "quarter": 2,
        "output_value": Decimal("12.30"),
        "employees": 4,
        "entered_by_id": steward.pk,
    }
    (built,) = new_instances(QuarterlyReport, [row])
    made = QuarterlyReport(**row)
    assert model_to_dict(built) == model_to_dict(made)
    assert built._state.adding and built.pk is None and built.status == "draft"
    first, second = new_instances(PendingJob, [{"task": "a"}, {"task": "b"}])
    assert first.args == second.args == [] and first.args is not second.args
    with pytest.raises(TypeError, match="no field enterprise"):
        new_instances(QuarterlyReport, [{"enterprise": firm}])


def test_values_of_other_types_are_still_prepared(enterprise_factory, steward):
    """The unprepared shortcut takes only values of the exact type a field sends as is; an
    int for a decimal, a string for a number or a choice enum goes through the field."""
    firm = enterprise_factory()
    copied, created = (
        new_instances(
            QuarterlyReport,
            [
                {
                    "enterprise_id": firm.pk,
                    "year": 2025,
                    "quarter": quarter,
                    "output_value": 1200,  # int for a decimal
                    "operating_revenue": Decimal("5.5"),
                    "employees": "17",  # text for a number
                    "status": ReportStatus.DRAFT,  # an enum member, a str subclass
                    "entered_by_id": steward.pk,
                }
            ],
        )[0]
        for quarter in (1, 2)
    )
    insert_new(QuarterlyReport, [copied])
    QuarterlyReport.objects.bulk_create([created])
    stored = QuarterlyReport.objects.filter(enterprise=firm).order_by("quarter")
    assert [(r.output_value, r.operating_revenue, r.employees, r.status) for r in stored] == [
        (Decimal("1200.00"), Decimal("5.50"), 17, "draft")
    ] * 2


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_paused_for_a_batch_and_restored_after_it(enabled):
    import gc

    (gc.enable if enabled else gc.disable)()
    try:
        with cycle_collection_paused(BATCH):
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError), cycle_collection_paused(BATCH):
            raise ValueError("a refused file")
        assert gc.isenabled() is enabled
        # A small batch (a worksheet's rows, one API report) runs as usual.
        with cycle_collection_paused(BATCH - 1):
            assert gc.isenabled() is enabled
    finally:
        gc.enable()


@pytest.mark.parametrize("door", ["reports", "register"])
def test_both_imports_check_and_write_with_the_cycle_collector_paused(
    door, monkeypatch, enterprise_factory, steward
):
    """The report pipeline (every door's reports) and the register import build a batch's
    rows with the collector paused (here a batch of one row), and it runs again once they
    are written."""
    import gc

    from cluster import bulk
    from enterprises import resources

    monkeypatch.setattr(bulk, "BATCH", 1)
    from enterprises.services import report_entry
    from enterprises.services.report_entry import FigureRow, reports_enter

    seen = []
    if door == "reports":
        real = report_entry._enter
        monkeypatch.setattr(
            report_entry, "_enter", lambda *a: seen.append(gc.isenabled()) or real(*a)
        )
        firm = enterprise_factory()
        outcome = reports_enter(
            actor=steward,
            rows=[FigureRow({"output_value": "100"}, ref=1, uscc=firm.uscc, period="2025Q1")],
        )
        assert outcome.errors == [] and outcome.written
    else:
        real = resources.EnterpriseResource.before_import

        def before_import(self, dataset, **kwargs):
            seen.append(gc.isenabled())
            return real(self, dataset, **kwargs)

        monkeypatch.setattr(resources.EnterpriseResource, "before_import", before_import)
        import tablib

        rows = tablib.Dataset(["91320594MA1XXXXXXX"], headers=["uscc"])
        resources.EnterpriseResource().import_data(rows, dry_run=True)
    assert seen == [False]
    assert gc.isenabled()
