"""Routes of the register's API, included under /api/ by the project's URLs."""

from cluster.api.routers import Router

from .views import (
    DesignationViewSet,
    EnterpriseViewSet,
    ListingViewSet,
    MilestoneViewSet,
    ReportViewSet,
    ResearchProjectViewSet,
)

router = Router()
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("designations", DesignationViewSet, basename="designation")
router.register("listings", ListingViewSet, basename="listing")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("quarterly-reports", ReportViewSet, basename="quarterly-report")
router.register("research-projects", ResearchProjectViewSet, basename="research-project")

urlpatterns = router.urls
