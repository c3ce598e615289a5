"""Routes of the targets engine's API, included under /api/ by the project's URLs."""

from cluster.api.routers import Router

from .views import AlertViewSet, SnapshotViewSet, TargetViewSet

router = Router()
router.register("targets", TargetViewSet, basename="target")
router.register("progress-snapshots", SnapshotViewSet, basename="progress-snapshot")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
