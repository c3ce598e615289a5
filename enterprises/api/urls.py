"""Routes of the register's API, included under /api/ by the project's URLs."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from cluster.api.routers import Router

from .views import (
    ClusterMembershipViewSet,
    DesignationViewSet,
    EnterpriseViewSet,
    ListingViewSet,
    MilestoneViewSet,
    ReportViewSet,
    ResearchProjectViewSet,
    reporting_window,
)

router = Router()
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("cluster-memberships", ClusterMembershipViewSet, basename="cluster-membership")
router.register("designations", DesignationViewSet, basename="designation")
router.register("listings", ListingViewSet, basename="listing")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("quarterly-reports", ReportViewSet, basename="quarterly-report")
router.register("research-projects", ResearchProjectViewSet, basename="research-project")

urlpatterns = [
    *router.urls,
    # The API authenticates by token or session itself (401 in its own error shape).
    path("reporting-window/", login_not_required(reporting_window), name="reporting-window"),
]
