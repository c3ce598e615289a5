"""The API's routes (kebab-case plurals, NetBox style), its schema and offline docs.

This is project-level routing, like cluster/urls.py: it names the apps' viewsets."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from enterprises.api import EnterpriseViewSet, ReportViewSet, ResearchProjectViewSet
from targets.api import AlertViewSet, SnapshotViewSet, TargetViewSet

from .api import DistrictViewSet, Router, SectorViewSet

router = Router()
router.register("districts", DistrictViewSet, basename="district")
router.register("sectors", SectorViewSet, basename="sector")
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("quarterly-reports", ReportViewSet, basename="quarterly-report")
router.register("research-projects", ResearchProjectViewSet, basename="research-project")
router.register("targets", TargetViewSet, basename="target")
router.register("progress-snapshots", SnapshotViewSet, basename="progress-snapshot")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
]

# The API authenticates by token or session itself (401 in its own error shape): the
# pages' login redirect does not apply to it.
for pattern in urlpatterns:
    pattern.callback = login_not_required(pattern.callback)
