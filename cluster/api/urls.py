"""The API's root, schema and offline docs, and the reference data's endpoints. The apps'
endpoints are included beside these by cluster/urls.py (dotted paths)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from .routers import RootRouter
from .views import DistrictViewSet, SectorViewSet

router = RootRouter(
    listed={
        "enterprises": "enterprise-list",
        "quarterly-reports": "quarterly-report-list",
        "research-projects": "research-project-list",
        "clusters": "cluster-list",
        "plans": "plan-list",
        "targets": "target-list",
        "progress-snapshots": "progress-snapshot-list",
        "alerts": "alert-list",
        "reporting-window": "reporting-window",
    }
)
router.register("districts", DistrictViewSet, basename="district")
router.register("sectors", SectorViewSet, basename="sector")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
# The API authenticates by token or session itself (401 in its own error shape).
for pattern in urlpatterns:
    pattern.callback = login_not_required(pattern.callback)
urlpatterns += router.urls
