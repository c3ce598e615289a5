"""Logging in safely: who the client is, how many failed logins lock an account or an address
(django-axes), and how many password-reset mails one address or one e-mail address may ask
for (Django REST framework's throttles, on a cache every web process shares)."""

from __future__ import annotations

import hashlib
import math

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import caches
from django.db.models import Sum
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle


def client_address(request) -> str:
    """The caller's address (AXES_CLIENT_IP_CALLABLE): REMOTE_ADDR, or, behind
    TRUSTED_PROXY_COUNT proxies of ours, the address the outermost of them saw. Each proxy
    appends the address it was called from to X-Forwarded-For, so that address is as many
    entries from the right; whatever a client writes further left is ignored."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            entry.strip()
            for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if entry.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class LockoutHandler(AxesDatabaseHandler):
    """django-axes with a limit per lockout parameter. Axes counts the recent failures of an
    account across addresses and of an address across accounts (AXES_LOCKOUT_PARAMETERS)
    but compares them all with one AXES_FAILURE_LIMIT; its maintainers point to a handler
    for separate limits (jazzband/django-axes#661). A district office reaches the site
    through one address, so the address gets the higher AXES_ADDRESS_FAILURE_LIMIT: its
    count is reported less the difference, and axes' one comparison locks each at its own
    limit."""

    def get_failures(self, request, credentials=None) -> int:
        allowance = settings.AXES_ADDRESS_FAILURE_LIMIT - settings.AXES_FAILURE_LIMIT
        failures = 0
        for parameter, attempts in zip(
            settings.AXES_LOCKOUT_PARAMETERS,
            self.get_user_attempts(request, credentials),
            strict=True,
        ):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            if parameter == "ip_address":
                count -= allowance
            failures = max(failures, count)
        return failures


class _ResetThrottle(SimpleRateThrottle):
    """Requests counted per hour in the `throttle` cache (the database), so that every web
    process counts the same requests."""

    per_hour_setting = ""

    @property
    def cache(self):
        return caches["throttle"]

    def get_rate(self) -> str:
        return f"{getattr(settings, self.per_hour_setting)}/hour"


class ResetsPerAddress(_ResetThrottle):
    scope = "password_reset_address"
    per_hour_setting = "PASSWORD_RESETS_PER_ADDRESS"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class ResetsPerEmail(_ResetThrottle):
    scope = "password_reset_email"
    per_hour_setting = "PASSWORD_RESETS_PER_ACCOUNT"

    def get_cache_key(self, request, view) -> str:
        # As Django finds the accounts (email__iexact); hashed, to keep addresses out of
        # the cache table.
        email = view.requested_email.strip().casefold()
        return self.cache_format % {
            "scope": self.scope,
            "ident": hashlib.sha256(email.encode()).hexdigest(),
        }


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, throttled: PASSWORD_RESETS_PER_ADDRESS requests an hour from
    one address, PASSWORD_RESETS_PER_ACCOUNT for one e-mail address. An e-mail address is
    counted whether an account has it or not, so neither the answer nor the refusal says
    whether it does."""

    requested_email = ""

    def form_valid(self, form):
        self.requested_email = form.cleaned_data["email"]
        for throttle in (ResetsPerAddress(), ResetsPerEmail()):
            if not throttle.allow_request(self.request, self):
                form.add_error(
                    "email",
                    _(
                        "Too many password-reset requests from this address or for this "
                        "e-mail address. Try again in %(minutes)d minutes."
                    )
                    % {"minutes": math.ceil(throttle.wait() / 60)},
                )
                response = self.form_invalid(form)
                response.status_code = 429
                return response
        return super().form_valid(form)
