from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = _("Nano New-Materials Cluster Monitor")
admin.site.site_title = _("Cluster Monitor")
admin.site.index_title = _("Enterprise database of the Suzhou nano new-materials cluster")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
