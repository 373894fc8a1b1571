import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Team, User
from itsm.testing import PASSWORD

STAFF = ["alice", "max", "ada"]
NOT_STAFF = ["rita", "carol"]


@pytest.mark.parametrize("who", STAFF)
def test_staff_can_read_the_user_directory(db, api, persona, who):
    persona("rita")
    response = api.as_(persona(who)).get("/api/v1/users/")
    assert response.status_code == 200
    assert "rita" in [u["username"] for u in response.json()["results"]]


def test_the_directory_search_matches_every_word_in_any_name_field(db, api, alice):
    from itsm.testing import make_user

    make_user("rr", first_name="Rita", last_name="Requester", email="rita@corp.example")
    make_user("rs", first_name="Rita", last_name="Smith")
    api.as_(alice)

    def found(text):
        body = api.get("/api/v1/users/", {"search": text}).json()
        return sorted(u["username"] for u in body["results"])

    assert found("rita") == ["rr", "rs"]
    assert found("rita requester") == ["rr"]
    assert found("corp.example") == ["rr"]
    assert found("nobody") == []


@pytest.mark.parametrize("who", NOT_STAFF)
def test_end_users_and_cab_members_cannot_read_the_directory(db, api, persona, who):
    assert api.as_(persona(who)).get("/api/v1/users/").status_code == 403


def test_anonymous_callers_are_refused(db, api):
    assert api.get("/api/v1/users/").status_code in (401, 403)
    assert api.get("/api/v1/users/me/").status_code in (401, 403)


@pytest.mark.parametrize("who", ["alice", "max", "rita"])
def test_only_admins_create_users(db, api, persona, who):
    response = api.as_(persona(who)).post(
        "/api/v1/users/", {"username": "newbie", "password": "x-Long-pass-42"}, format="json"
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="newbie").exists()


def test_an_admin_creates_a_user_with_roles_and_teams(db, api, ada):
    team = Team.objects.create(name="Network")
    response = api.as_(ada).post(
        "/api/v1/users/",
        {
            "username": "nina",
            "email": "nina@example.com",
            "first_name": "Nina",
            "roles": ["agent", "cab_member"],
            "teams": [team.pk],
            "language": "fr",
            "password": "a-Strong-pass-2026",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert sorted(body["roles"]) == ["agent", "cab_member"]
    assert body["teams"] == [team.pk]
    assert "password" not in body
    nina = User.objects.get(username="nina")
    assert nina.check_password("a-Strong-pass-2026")
    assert nina.roles == ["agent", "cab_member"]


def test_the_admin_role_makes_a_superuser(db, api, ada, rita):
    response = api.as_(ada).patch(f"/api/v1/users/{rita.pk}/", {"roles": ["admin"]}, format="json")
    assert response.status_code == 200
    rita.refresh_from_db()
    assert rita.is_superuser
    assert response.json()["roles"] == ["admin"]


def test_an_unknown_role_is_a_400_naming_the_field(db, api, ada, rita):
    response = api.as_(ada).patch(f"/api/v1/users/{rita.pk}/", {"roles": ["wizard"]}, format="json")
    assert response.status_code == 400
    assert "roles" in response.json()


def test_a_weak_password_is_refused(db, api, ada):
    response = api.as_(ada).post(
        "/api/v1/users/", {"username": "weak", "password": "123"}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()


def test_deleting_a_user_deactivates_it(db, api, ada, rita):
    assert api.as_(ada).delete(f"/api/v1/users/{rita.pk}/").status_code == 204
    rita.refresh_from_db()
    assert not rita.is_active


def test_me_shows_my_roles_and_teams(db, api, alice):
    body = api.as_(alice).get("/api/v1/users/me/").json()
    assert body["username"] == "alice"
    assert body["roles"] == ["agent"]
    assert len(body["teams"]) == 1


def test_me_can_change_my_language_but_not_my_roles(db, api, rita):
    api.as_(rita)
    refused = api.patch("/api/v1/users/me/", {"language": "fr", "roles": ["admin"]}, format="json")
    assert refused.status_code == 400
    assert "roles" in refused.json()  # named, not silently dropped; nothing applied
    rita.refresh_from_db()
    assert (rita.language, rita.is_superuser, rita.roles) == ("", False, [])
    assert api.patch("/api/v1/users/me/", {"language": "fr"}, format="json").status_code == 200
    rita.refresh_from_db()
    assert rita.language == "fr"


def test_the_user_directory_is_a_paginated_list_like_every_other(db, api, alice, persona):
    for name in ("rita", "eve", "bob"):
        persona(name)
    body = api.as_(alice).get("/api/v1/users/", {"page_size": 2}).json()
    assert set(body) >= {"results", "next"} and len(body["results"]) == 2
    rest = api.get(body["next"]).json()["results"]
    seen = [u["username"] for u in body["results"] + rest]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 4


def test_changing_my_password_needs_the_current_one(db, api, rita):
    api.as_(rita)
    refused = api.patch("/api/v1/users/me/", {"password": "Brand-new-pass-77"}, format="json")
    assert refused.status_code == 400
    assert "current_password" in refused.json()
    accepted = api.patch(
        "/api/v1/users/me/",
        {"password": "Brand-new-pass-77", "current_password": PASSWORD},
        format="json",
    )
    assert accepted.status_code == 200
    rita.refresh_from_db()
    assert rita.check_password("Brand-new-pass-77")


def test_changing_my_email_needs_the_current_password_and_tells_the_old_address(
    db, api, rita, mailoutbox, django_capture_on_commit_callbacks
):
    api.as_(rita)
    refused = api.patch("/api/v1/users/me/", {"email": "thief@evil.example"}, format="json")
    assert refused.status_code == 400 and "current_password" in refused.json()
    rita.refresh_from_db()
    assert rita.email == "rita@example.com"
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        accepted = api.patch(
            "/api/v1/users/me/",
            {"email": "rita.new@example.com", "current_password": PASSWORD},
            format="json",
        )
    assert accepted.status_code == 200
    [notice] = mailoutbox
    assert notice.to == ["rita@example.com"]
    assert "rita.new@example.com" in notice.body


def test_a_new_password_revokes_the_tokens_and_ends_other_sessions(db, api, client, rita):
    token = Token.objects.create(user=rita)
    other = client  # another browser, signed in before the change
    other.force_login(rita)
    assert other.get("/api/v1/users/me/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    changed = api.patch(
        "/api/v1/users/me/",
        {"password": "Brand-new-pass-77", "current_password": PASSWORD},
        format="json",
    )
    assert changed.status_code == 200
    assert not Token.objects.filter(user=rita).exists()
    assert api.get("/api/v1/users/me/").status_code == 401
    assert other.get("/api/v1/users/me/").status_code in (401, 403)


def test_a_deactivated_account_loses_its_tokens(db, api, rita, ada):
    Token.objects.create(user=rita)
    assert api.as_(ada).delete(f"/api/v1/users/{rita.pk}/").status_code == 204
    assert not Token.objects.filter(user=rita).exists()


def test_teams_are_read_by_staff_and_written_by_admins(db, api, alice, rita, ada):
    assert api.as_(rita).get("/api/v1/teams/").status_code == 403
    assert api.as_(alice).get("/api/v1/teams/").status_code == 200
    refused = api.as_(alice).post("/api/v1/teams/", {"name": "Rogue"}, format="json")
    assert refused.status_code == 403
    created = api.as_(ada).post(
        "/api/v1/teams/",
        {"name": "Storage", "members": [alice.pk], "lead": alice.pk},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["members"] == [alice.pk]
    assert created.json()["lead"] == alice.pk


def test_a_token_is_issued_for_good_credentials_and_authenticates(db, api, rita):
    api.force_authenticate(user=None)
    response = api.post(
        "/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=rita).key
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/users/me/").json()["username"] == "rita"


def test_bad_credentials_get_no_token(db, api, rita):
    response = api.post(
        "/api/v1/auth/token/", {"username": "rita", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_bad_token_is_refused(db, api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get("/api/v1/users/me/").status_code == 401


def test_signing_in_many_times_with_the_right_password_is_never_refused(db, api, rita):
    for _ in range(25):
        response = api.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD})
        assert response.status_code == 200


def test_an_expired_token_is_refused_and_a_new_one_issued(db, api, rita, settings):
    from datetime import timedelta

    from django.utils import timezone

    first = api.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}).json()
    Token.objects.filter(key=first["token"]).update(
        created=timezone.now() - settings.API_TOKEN_LIFETIME - timedelta(minutes=1)
    )
    api.credentials(HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert api.get("/api/v1/users/me/").status_code == 401
    api.credentials()
    second = api.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}).json()
    assert second["token"] != first["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {second['token']}")
    assert api.get("/api/v1/users/me/").status_code == 200


def test_the_owner_reads_and_revokes_their_token(db, api, rita):
    key = api.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}).json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key['token']}")
    info = api.get("/api/v1/users/me/token/").json()
    assert info["ends_with"] == key["token"][-4:] and "key" not in info and "expires" in info
    assert api.delete("/api/v1/users/me/token/").status_code == 204
    assert api.get("/api/v1/users/me/").status_code == 401
