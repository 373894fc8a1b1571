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
    assert client.get(lookup, {"requester": "r"}).content.decode().strip() == ""  # too short
    assert "Tom &lt;b&gt;" in client.get(lookup, {"requester": "tom"}).content.decode()


@pytest.mark.parametrize(("who", "code"), [("rita", 403), ("carol", 403), ("alice", 200)])
def test_only_staff_may_browse_the_directory(db, client, persona, who, code):
    client.force_login(persona(who))
    assert client.get(reverse("person_lookup"), {"q": "al"}).status_code == code


def test_anonymous_visitors_cannot_browse_the_directory(db, client):
    response = client.get(reverse("person_lookup"), {"q": "al"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
