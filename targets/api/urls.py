"""Routes of the targets engine's API, included under /api/ by the project's URLs."""

from cluster.api.routers import Router

from .assessments import ASSESSMENTS, AssessmentViewSet
from .views import AlertViewSet, SnapshotViewSet, TargetViewSet

router = Router()
router.register("targets", TargetViewSet, basename="target")
router.register(ASSESSMENTS, AssessmentViewSet, basename="target-assessment")
router.register("progress-snapshots", SnapshotViewSet, basename="progress-snapshot")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
