"""Log lines for logins, failed logins and logouts (lockouts are logged by django-axes,
refused access by cluster.access)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .access import security_log
from .login import client_address


def _address(request) -> str:
    return (client_address(request) or "-") if request is not None else "-"


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    security_log.info("login: user=%s ip=%s", user.get_username(), _address(request))


@receiver(user_login_failed)
def log_login_failure(sender, credentials, request=None, **kwargs):
    security_log.warning(
        "login failed: user=%s ip=%s", credentials.get("username", "-"), _address(request)
    )


@receiver(user_logged_out)
def log_logout(sender, request, user, **kwargs):
    security_log.info(
        "logout: user=%s ip=%s", user.get_username() if user else "-", _address(request)
    )
