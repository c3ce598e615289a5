from django.urls import include, path

from .views import (
    alerts,
    brief,
    dashboard,
    evaluation,
    firms,
    home,
    notifications,
    overview,
    plans,
    profile,
)

app_name = "targets"

# The pages of one cluster, under clusters/<key>/.
cluster_pages = [
    path("", dashboard.city_dashboard, name="dashboard"),
    path("districts/<int:pk>/", dashboard.district_page, name="district"),
    path("sectors/<int:pk>/", dashboard.sector_page, name="sector"),
    path("targets/<int:pk>/firms/", firms.firms_page, name="firms"),
    path("brief/", brief.brief_latest, name="brief-latest"),
    path("brief/<str:period>/", brief.brief_page, name="brief"),
    path("brief/<str:period>.<str:fmt>", brief.brief_download, name="brief-download"),
    path("brief/<str:period>/release/", brief.brief_release, name="brief-release"),
    path("plans/<slug:plan>/evaluation/", evaluation.evaluation_page, name="evaluation"),
    path(
        "plans/<slug:plan>/evaluation/close/",
        evaluation.evaluation_close_page,
        name="evaluation-close",
    ),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("clusters/", overview.overview, name="overview"),
    path("clusters/<slug:cluster>/", include(cluster_pages)),
    path("enterprises/<int:pk>/", profile.enterprise_profile, name="enterprise"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/bulk/", alerts.alert_bulk, name="alerts-bulk"),
    path("alerts/<int:pk>/<str:action>/", alerts.alert_act, name="alert-act"),
    path("alerts/notifications/", notifications.notification_list, name="notifications"),
    path(
        "alerts/notifications/read/",
        notifications.notifications_mark_read,
        name="notifications-read",
    ),
    # Clusters and their plans; the steward loads plan files (targets.plans).
    path("plans/", plans.plan_list, name="plans"),
    path("plans/load/", plans.plan_upload, name="plan-upload"),
    path("plans/load/confirm/", plans.plan_confirm, name="plan-confirm"),
    # The single-cluster addresses of old lead to the same pages of the first cluster.
    path("dashboard/", dashboard.moved("targets:dashboard"), name="moved-dashboard"),
    path(
        "dashboard/districts/<int:pk>/", dashboard.moved("targets:district"), name="moved-district"
    ),
    path("dashboard/sectors/<int:pk>/", dashboard.moved("targets:sector"), name="moved-sector"),
    path("dashboard/targets/<int:pk>/firms/", dashboard.moved("targets:firms"), name="moved-firms"),
    path("brief/", dashboard.moved("targets:brief-latest"), name="moved-brief-latest"),
    path("brief/<str:period>/", dashboard.moved("targets:brief"), name="moved-brief"),
    path(
        "brief/<str:period>.<str:fmt>",
        dashboard.moved("targets:brief-download"),
        name="moved-brief-download",
    ),
]
