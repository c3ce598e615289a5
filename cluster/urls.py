from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from cluster.health import health
from targets.views import dashboard

admin.site.site_header = _("Nano New-Materials Cluster Monitor")
admin.site.site_title = _("Cluster Monitor")
admin.site.index_title = _("Enterprise database of the Suzhou nano new-materials cluster")

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/", include("cluster.api_urls")),
    path("", dashboard.home, name="home"),
    # The monitor's pages first: its enterprise profile answers /enterprises/<pk>/.
    path("", include("targets.urls")),
    path("", include("enterprises.urls")),
]
