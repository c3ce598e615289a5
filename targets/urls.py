from django.urls import path

from .views import alerts, brief, dashboard, firms, notifications, plans, profile

app_name = "targets"
urlpatterns = [
    path("", dashboard.home, name="home"),
    path("dashboard/", dashboard.city_dashboard, name="dashboard"),
    path("dashboard/districts/<int:pk>/", dashboard.district_page, name="district"),
    path("dashboard/sectors/<int:pk>/", dashboard.sector_page, name="sector"),
    path("dashboard/targets/<int:pk>/firms/", firms.firms_page, name="firms"),
    path("enterprises/<int:pk>/", profile.enterprise_profile, name="enterprise"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/<int:pk>/<str:action>/", alerts.alert_act, name="alert-act"),
    path("alerts/notifications/", notifications.notification_list, name="notifications"),
    path(
        "alerts/notifications/read/",
        notifications.notifications_mark_read,
        name="notifications-read",
    ),
    path("brief/", brief.brief_latest, name="brief-latest"),
    path("brief/<str:period>/", brief.brief_page, name="brief"),
    path("brief/<str:period>.<str:fmt>", brief.brief_download, name="brief-download"),
    # Clusters and their plans; the steward loads plan files (targets.plans).
    path("plans/", plans.plan_list, name="plans"),
    path("plans/load/", plans.plan_upload, name="plan-upload"),
    path("plans/load/confirm/", plans.plan_confirm, name="plan-confirm"),
]
