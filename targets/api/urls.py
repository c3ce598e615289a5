"""Routes of the targets engine's API, included under /api/ by the project's URLs."""

from cluster.api.routers import Router

from .assessments import ASSESSMENTS, AssessmentViewSet
from .plans import ClusterViewSet, PlanViewSet
from .views import AlertViewSet, SnapshotViewSet, TargetViewSet

router = Router()
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("plans", PlanViewSet, basename="plan")
router.register("targets", TargetViewSet, basename="target")
router.register(ASSESSMENTS, AssessmentViewSet, basename="target-assessment")
router.register("progress-snapshots", SnapshotViewSet, basename="progress-snapshot")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
