"""The project's URLs. The frame names the apps' URL modules by dotted path only, so
`cluster` imports neither app (STYLE: cluster <- enterprises <- targets)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from cluster.health import health
from cluster.login import PasswordResetView

# SuspiciousOperation refusals raised by Django itself get the same 400 page as ours.
handler400 = "cluster.middleware.bad_request"

admin.site.site_header = _("Nano New-Materials Cluster Monitor")
admin.site.site_title = _("Cluster Monitor")
admin.site.index_title = _("Enterprise database of the Suzhou nano new-materials cluster")

# django.contrib.auth.urls, with the password reset throttled (cluster.login).
accounts = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("accounts/", include(accounts)),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/", include("cluster.api.urls")),
    path("api/", include("enterprises.api.urls")),
    path("api/", include("targets.api.urls")),
    # The monitor's pages first: its home page and its enterprise profile (/enterprises/<pk>/).
    path("", include("targets.urls")),
    path("", include("enterprises.urls")),
]
