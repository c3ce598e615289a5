"""The production settings (cluster.settings, driven by the same environment), with the static
files served from the apps' folders instead of a collectstatic manifest: collecting and
compressing a thousand files takes a minute and is not what the benchmark measures, while a
page's cost of naming its static files is the same either way."""

from cluster.settings import *  # noqa: F403
from cluster.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
