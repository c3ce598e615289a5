"""Guessing passwords: an account is locked whatever the addresses the guesses come from, an
address whatever the usernames it tries, through every door that takes a password; a
locked account refuses even the right password; password-reset mails are throttled per
address and per e-mail address without telling whether an account exists."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse

from cluster.login import client_address
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests-1"  # tests.factories.UserFactory
DOORS = {"login page": "/accounts/login/", "admin login": "/admin/login/"}


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Every attempt hashes a password; the production hasher would make this file slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def officer(officer_sip):
    """A staff officer, so that the admin's door lets the right password in."""
    officer_sip.email = "officer@sip.example.cn"
    officer_sip.is_staff = True
    officer_sip.save()
    return officer_sip


def attempt(client, door, username, password, address):
    client.logout()
    return client.post(
        DOORS[door], {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, door, username, address, times=1):
    for _ in range(times):
        response = attempt(client, door, username, "wrong-password", address)
        assert not logged_in(client)
    return response


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("locking_door", DOORS)
def test_a_locked_account_refuses_the_right_password_from_a_new_address(
    client, officer, door, locking_door
):
    fail(client, locking_door, "officer_sip", "10.0.0.1", settings.AXES_FAILURE_LIMIT)
    response = attempt(client, door, "officer_sip", PASSWORD, "10.9.9.9")
    assert response.status_code == 429
    assert not logged_in(client)


def test_the_lock_ends_after_the_cool_off(client, officer):
    start = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        fail(client, "login page", "officer_sip", "10.0.0.1", settings.AXES_FAILURE_LIMIT)
        clock.shift(dt.timedelta(minutes=settings.AXES_COOLOFF_TIME * 60 - 1))
        assert attempt(client, "login page", "officer_sip", PASSWORD, "10.9.9.9").status_code == 429
        # That refused try counts as a failure too, so the cool-off runs from it.
        clock.shift(dt.timedelta(minutes=settings.AXES_COOLOFF_TIME * 60 + 1))
        attempt(client, "login page", "officer_sip", PASSWORD, "10.9.9.9")
        assert logged_in(client)


@pytest.mark.parametrize("door", DOORS)
def test_guesses_spread_over_addresses_lock_the_account(client, officer, door):
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(client, door, "officer_sip", f"10.1.0.{n}")
    response = attempt(client, door, "officer_sip", PASSWORD, "10.1.1.1")
    assert response.status_code == 429
    assert not logged_in(client)


@pytest.mark.parametrize("door", DOORS)
def test_one_address_trying_many_usernames_is_locked_out(client, officer, door):
    limit = settings.AXES_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT  # an office shares one address
    for n in range(limit - 1):
        fail(client, door, f"guess{n}", "10.2.0.1")
    # Below the address's limit, a colleague behind the same address still logs in.
    attempt(client, door, "officer_sip", PASSWORD, "10.2.0.1")
    assert logged_in(client)
    fail(client, door, "one-more-guess", "10.2.0.1")
    assert attempt(client, door, "officer_sip", PASSWORD, "10.2.0.1").status_code == 429
    assert not logged_in(client)
    # The account itself is not locked: from elsewhere it logs in.
    attempt(client, door, "officer_sip", PASSWORD, "10.2.0.2")
    assert logged_in(client)


def test_logging_in_with_an_account_of_ones_own_does_not_wipe_the_count(
    client, officer, officer_kunshan
):
    fail(client, "login page", "officer_sip", "10.3.0.1", settings.AXES_FAILURE_LIMIT - 1)
    attempt(client, "login page", "officer_kunshan", PASSWORD, "10.3.0.1")
    assert logged_in(client)
    fail(client, "login page", "officer_sip", "10.3.0.1")
    assert attempt(client, "login page", "officer_sip", PASSWORD, "10.3.0.2").status_code == 429


@pytest.mark.parametrize(
    "variant",
    [" officer_sip", "officer_sip ", "ｏｆｆｉｃｅｒ＿ｓｉｐ"],
    ids=["leading space", "trailing space", "full-width"],
)
def test_spellings_of_a_locked_username_are_the_same_account(client, officer, variant):
    fail(client, "login page", variant, "10.4.0.1", settings.AXES_FAILURE_LIMIT)
    assert attempt(client, "login page", "officer_sip", PASSWORD, "10.4.0.2").status_code == 429
    assert attempt(client, "admin login", variant, PASSWORD, "10.4.0.3").status_code == 429
    assert not logged_in(client)


def test_another_case_is_another_username_and_no_way_in(client, officer):
    response = attempt(client, "login page", "OFFICER_SIP", PASSWORD, "10.5.0.1")
    assert response.status_code == 200
    assert not logged_in(client)


def test_the_api_takes_no_password(client, officer):
    credentials = base64.b64encode(f"officer_sip:{PASSWORD}".encode()).decode()
    response = client.get("/api/enterprises/", headers={"authorization": f"Basic {credentials}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", ["登录失败次数过多", "30 分钟", "正确的密码"]),
        ("en", ["Too many failed logins", "30 minutes", "right password"]),
    ],
)
def test_the_lockout_page_says_for_how_long_even_the_right_password_is_refused(
    client, officer, language, expected
):
    fail(client, "login page", "officer_sip", "10.6.0.1", settings.AXES_FAILURE_LIMIT)
    client.logout()
    response = client.post(
        DOORS["login page"],
        {"username": "officer_sip", "password": PASSWORD},
        REMOTE_ADDR="10.6.0.2",
        headers={"accept-language": language},
    )
    assert response.status_code == 429
    text = re.sub(r"\s+", " ", response.content.decode())
    for phrase in expected:
        assert phrase in text


# --- password reset --------------------------------------------------------------------


def request_reset(client, email, address):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_reset_mails_are_throttled_per_address(client, officer):
    limit = settings.PASSWORD_RESETS_PER_ADDRESS
    emails = [f"someone{n}@example.cn" for n in range(limit)]
    UserFactory(username="someone0", email=emails[0])
    for email in emails:
        assert request_reset(client, email, "10.7.0.1").status_code == 302
    refused = request_reset(client, "officer@sip.example.cn", "10.7.0.1")
    assert refused.status_code == 429
    assert "请求重置密码的次数过多" in refused.content.decode()
    assert [m.to for m in mail.outbox] == [[emails[0]]]
    # Another address is not held back.
    assert request_reset(client, "officer@sip.example.cn", "10.7.0.2").status_code == 302
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("email", ["officer@sip.example.cn", "nobody@nowhere.example.cn"])
def test_reset_mails_are_throttled_per_email_address_whether_or_not_it_has_an_account(
    client, officer, email
):
    limit = settings.PASSWORD_RESETS_PER_ACCOUNT
    start = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        answers = [request_reset(client, email, f"10.8.0.{n}") for n in range(limit)]
        assert [a["Location"] for a in answers] == [reverse("password_reset_done")] * limit
        spellings = [email.upper(), f" {email} "]
        for n, spelling in enumerate(spellings):
            refused = request_reset(client, spelling, f"10.8.1.{n}")
            assert refused.status_code == 429
        text = refused.content.decode()
        assert "请求重置密码的次数过多" in text and "60 分钟" in text
        sent = len(mail.outbox)
        assert sent == (limit if email == "officer@sip.example.cn" else 0)
        clock.shift(dt.timedelta(hours=1, minutes=1))
        assert request_reset(client, email, "10.8.2.1").status_code == 302


def test_the_throttle_answer_is_in_english_too(client, officer):
    for n in range(settings.PASSWORD_RESETS_PER_ACCOUNT):
        request_reset(client, "nobody@nowhere.example.cn", f"10.9.0.{n}")
    refused = client.post(
        reverse("password_reset"),
        {"email": "nobody@nowhere.example.cn"},
        REMOTE_ADDR="10.9.1.1",
        headers={"accept-language": "en"},
    )
    assert refused.status_code == 429
    assert "Too many password-reset requests" in refused.content.decode()


# --- who the client is -----------------------------------------------------------------


def forwarded_request(rf, forwarded):
    return rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)


def test_without_a_trusted_proxy_a_forwarded_header_changes_nothing(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(forwarded_request(rf, "203.0.113.7")) == "10.0.0.9"


def test_behind_trusted_proxies_the_address_they_saw_counts(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote the first entry; our proxy appended the address it saw.
    assert client_address(forwarded_request(rf, "1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 2
    request = forwarded_request(rf, "1.2.3.4, 203.0.113.7, 10.0.0.2")
    assert client_address(request) == "203.0.113.7"
    # Fewer entries than proxies: the request did not come through them.
    assert client_address(forwarded_request(rf, "203.0.113.7")) == "10.0.0.9"
