from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClusterConfig(AppConfig):
    name = "cluster"
    verbose_name = _("Cluster and reference data")

    def ready(self) -> None:
        from . import (  # noqa: F401
            lookups,  # field__any
            security,  # connects the login log receivers
        )
