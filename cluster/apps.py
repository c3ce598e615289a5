from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClusterConfig(AppConfig):
    name = "cluster"
    verbose_name = _("Cluster and reference data")

    def ready(self) -> None:
        from . import security  # noqa: F401 - connects the login log receivers
