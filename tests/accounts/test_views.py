"""The person type-ahead that staff forms use (``person_lookup``)."""

import pytest
from django.urls import reverse


def test_staff_find_people_by_any_word_of_their_name_username_or_email(db, client, alice):
    from accounts.forms import person_label
    from itsm.testing import make_user

    rita = make_user("rita.r", first_name="Rita", last_name="Requester", email="rita@corp.example")
    gone = make_user("rita.gone", first_name="Rita", last_name="Gone", is_active=False)
    make_user("tom", first_name="Tom <b>", last_name="Other")
    client.force_login(alice)
    lookup = reverse("person_lookup")
    html = client.get(lookup, {"requester": "rita requ"}).content.decode()
    assert person_label(rita) in html and f"#{gone.pk}" not in html
    assert f"#{rita.pk}" in client.get(lookup, {"requester": "corp.example"}).content.decode()
    assert f"#{rita.pk}" in client.get(lookup, {"owner": "rita"}).content.decode()  # any box
    assert client.get(lookup, {"requester": "r"}).content.decode().strip() == ""  # too short
    assert "Tom &lt;b&gt;" in client.get(lookup, {"requester": "tom"}).content.decode()


@pytest.mark.parametrize(("who", "code"), [("rita", 403), ("carol", 403), ("alice", 200)])
def test_only_staff_may_browse_the_directory(db, client, persona, who, code):
    client.force_login(persona(who))
    assert client.get(reverse("person_lookup"), {"q": "al"}).status_code == code


def test_anonymous_visitors_cannot_browse_the_directory(db, client):
    response = client.get(reverse("person_lookup"), {"q": "al"})
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- Sign-in protection (django-axes)


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_repeated_wrong_passwords_lock_that_account_from_that_address(db, client, settings):
    from itsm.testing import PASSWORD, make_user

    settings.AXES_FAILURE_LIMIT = 3
    make_user("victim")
    make_user("bystander")
    for _ in range(2):
        assert sign_in(client, "victim", "guess").status_code == 200  # the form, with an error
    assert sign_in(client, "victim", "guess").status_code == 429  # the third locks
    locked = sign_in(client, "victim", PASSWORD)  # even the right password, now
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "_auth_user_id" not in client.session
    # Another account from the same address, and the same account from elsewhere, still work.
    assert sign_in(client, "bystander", PASSWORD).status_code == 302
    client.logout()
    assert sign_in(client, "victim", PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 302


def test_a_success_before_the_limit_clears_the_count(db, client, settings):
    from itsm.testing import PASSWORD, make_user

    settings.AXES_FAILURE_LIMIT = 3
    make_user("forgetful")
    for _ in range(2):
        sign_in(client, "forgetful", "typo")
    assert sign_in(client, "forgetful", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        sign_in(client, "forgetful", "typo")
    assert sign_in(client, "forgetful", PASSWORD).status_code == 302


def test_the_lockout_page_speaks_the_callers_language(db, client, settings):
    from itsm.testing import make_user

    settings.AXES_FAILURE_LIMIT = 1
    make_user("lea")
    sign_in(client, "lea", "x", HTTP_ACCEPT_LANGUAGE="fr")
    page = sign_in(client, "lea", "x", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Trop de connexions échouées" in page


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy: a client's header is ignored
        (1, "203.0.113.9", "203.0.113.9"),  # nginx wrote the real address
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client forged the first entry
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.5", "203.0.113.9"),
        (1, "", "10.0.0.2"),  # a proxy that wrote nothing: fall back to the socket
    ],
)
def test_the_callers_address_comes_from_trusted_proxies_only(
    settings, proxies, forwarded, expected
):
    from django.test import RequestFactory

    from accounts.signin import client_ip

    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_api_token_endpoint_counts_and_obeys_the_same_lock(db, client, api, settings):
    from itsm.testing import PASSWORD, make_user

    settings.AXES_FAILURE_LIMIT = 3
    make_user("scripted")
    for _ in range(3):
        wrong = api.post("/api/v1/auth/token/", {"username": "scripted", "password": "no"})
        assert wrong.status_code in (400, 429) and "token" not in wrong.json()
    right = api.post("/api/v1/auth/token/", {"username": "scripted", "password": PASSWORD})
    assert right.status_code in (400, 429) and "token" not in right.json()
    assert sign_in(client, "scripted", PASSWORD).status_code == 429


@pytest.mark.parametrize("door", ["form", "token"])
def test_one_address_spraying_a_password_over_many_accounts_is_refused(
    db, client, api, settings, door
):
    from itsm.testing import PASSWORD, make_user

    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    make_user("innocent")
    for n in range(4):  # four accounts, one guess each: no single account is locked
        make_user(f"target{n}")
        sign_in(client, f"target{n}", "Summer2026!")
    if door == "form":
        refused = sign_in(client, "innocent", PASSWORD)
    else:
        refused = api.post("/api/v1/auth/token/", {"username": "innocent", "password": PASSWORD})
    assert refused.status_code == 429
    # another address is not concerned
    assert sign_in(client, "innocent", PASSWORD, REMOTE_ADDR="192.0.2.99").status_code == 302
