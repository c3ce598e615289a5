"""The API's routers: kebab-case plural routes (NetBox style), bounded ids, no suffix routes.

Each app routes its own endpoints (`<app>/api/urls.py`); the project's URLs include them by
dotted path, so the frame never imports the apps."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from rest_framework.routers import DefaultRouter, SimpleRouter


class Router(SimpleRouter):
    """Object ids in paths are 1 to 18 digits: a longer number is a 404, not an overflow.
    No format-suffix routes (/enterprises.json): the API speaks JSON, and the suffix routes
    broke the custom actions (found by tests/test_authorization.py).

    The API authenticates by token or session itself (401 in its own error shape): the
    pages' login redirect does not apply to it."""

    include_format_suffixes = False

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if not hasattr(viewset, "lookup_value_regex"):
            viewset.lookup_value_regex = "[0-9]{1,18}"
        return super().get_lookup_regex(viewset, lookup_prefix)

    def get_urls(self):
        urls = super().get_urls()
        for pattern in urls:
            pattern.callback = login_not_required(pattern.callback)
        return urls


class RootRouter(Router, DefaultRouter):
    """The router with the API's root page; `listed` names the other apps' list routes (by
    URL name, so nothing is imported) for the root page to link."""

    def __init__(self, *args, listed: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.listed = listed or {}

    def get_api_root_view(self, api_urls=None):
        names = {
            prefix: self.routes[0].name.format(basename=basename)
            for prefix, _viewset, basename in self.registry
        }
        return self.APIRootView.as_view(api_root_dict={**names, **self.listed})
