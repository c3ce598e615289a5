import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from cluster.models import Cluster, District, Sector
from enterprises.choices import (
    DesignationTier,
    DesignationType,
    ListingVenue,
    SizeClass,
)
from enterprises.models import (
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    QuarterlyReport,
)
from enterprises.uscc import check_character


def valid_uscc(n: int) -> str:
    first17 = f"91320594{n:08d}0"
    return first17 + check_character(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-for-tests-1")


def nano() -> Cluster:
    return Cluster.objects.get(key="nano")


def material_of(cluster: Cluster, code: str = "1.04") -> Sector:
    """The material `code` of the cluster's tree, or its first material when it has no such
    code (another cluster's tree)."""
    materials = Sector.objects.materials().filter(cluster=cluster)
    return materials.filter(code=code).first() or materials.order_by("code").first()


# A second cluster's sector tree for tests: its codes 1, 1.01 … are also nano's, so that a code
# alone does not name a sector.
SECOND_TREES = {
    "photonics": (
        ("苏州市光子产业创新集群", "Suzhou Photonics Industrial Innovation Cluster"),
        {
            ("1", "光通信器件", "Optical communication devices"): [
                ("1.01", "光模块", "Optical modules"),
                ("1.02", "光芯片", "Photonic chips"),
            ],
            ("2", "激光与光制造", "Lasers and laser manufacturing"): [
                ("2.01", "超快激光器", "Ultrafast lasers"),
            ],
        },
    ),
}


def cluster_with_tree(key: str = "photonics") -> Cluster:
    """A second cluster of the city with a small sector tree of its own (idempotent)."""
    (name_zh, name_en), tree = SECOND_TREES[key]
    cluster, _created = Cluster.objects.get_or_create(
        key=key, defaults={"name_zh": name_zh, "name_en": name_en, "sort_order": 2}
    )
    for (code, zh, en), materials in tree.items():
        direction, _created = Sector.objects.get_or_create(
            cluster=cluster,
            code=code,
            defaults={"name_zh": zh, "name_en": en, "level": Sector.Level.DIRECTION},
        )
        for material_code, material_zh, material_en in materials:
            Sector.objects.get_or_create(
                cluster=cluster,
                code=material_code,
                defaults={
                    "name_zh": material_zh,
                    "name_en": material_en,
                    "level": Sector.Level.MATERIAL,
                    "parent": direction,
                },
            )
    return cluster


class ClusterMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClusterMembership

    enterprise = factory.SubFactory("tests.factories.EnterpriseFactory", cluster=None)
    cluster = factory.LazyFunction(nano)
    sector = factory.LazyAttribute(lambda o: material_of(o.cluster))
    joined_on = dt.date(2020, 1, 1)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    """A firm with its membership of a cluster: `cluster` (default nano; None for a firm of no
    cluster), `sector` (default the cluster's 1.04), `joined_on` (default 2020-01-01) and
    `left_on`."""

    class Meta:
        model = Enterprise
        skip_postgeneration_save = True

    class Params:
        cluster = factory.LazyFunction(nano)
        sector = factory.LazyAttribute(lambda o: material_of(o.cluster))
        joined_on = dt.date(2020, 1, 1)
        left_on = None

    uscc = factory.Sequence(valid_uscc)
    name_zh = factory.Sequence(lambda n: f"测试纳米材料有限公司{n}")
    name_en = factory.Sequence(lambda n: f"Test Nano Materials Co. {n}")
    district = factory.LazyFunction(lambda: District.objects.get(code="320571"))
    size_class = SizeClass.SMALL
    membership = factory.Maybe(
        "cluster",
        yes_declaration=factory.RelatedFactory(
            ClusterMembershipFactory,
            factory_related_name="enterprise",
            cluster=factory.SelfAttribute("..cluster"),
            sector=factory.SelfAttribute("..sector"),
            joined_on=factory.SelfAttribute("..joined_on"),
            left_on=factory.SelfAttribute("..left_on"),
        ),
    )


class QuarterlyReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuarterlyReport

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2025
    quarter = 1
    output_value = Decimal("1000000.00")
    operating_revenue = Decimal("950000.00")


class DesignationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Designation

    enterprise = factory.SubFactory(EnterpriseFactory)
    type = DesignationType.GAZELLE
    tier = DesignationTier.CITY
    valid_from = dt.date(2024, 1, 1)
    valid_to = dt.date(2025, 12, 31)


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    enterprise = factory.SubFactory(EnterpriseFactory)
    venue = ListingVenue.STAR
    ticker = factory.Sequence(lambda n: f"688{n:03d}")
    listed_on = dt.date(2022, 6, 1)
