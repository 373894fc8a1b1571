"""The XSS corpus (tests/hostile.py) through every text field: each page shows it as text and
nothing in it becomes markup, in the pages, in the notification emails, and in the API (stored
as typed, returned as JSON)."""

import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.db import transaction

from itsm.management.commands.seed_demo import Command as SeedDemo
from tests.hostile import (
    CORPUS,
    EVERYTHING,
    HOSTILE_FIRST,
    HOSTILE_LAST,
    build_hostile_desk,
    hostile_names,
)

# What a page of ours may contain: scripts only from files (or JSON data blocks), no event
# handler, no javascript:/data: link, images from the desk itself (or data: icons).
ACTIVE_TAGS = {"iframe", "object", "embed", "base", "meta", "style", "svg"}


class Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "head":
            self.in_head = True
        if (
            tag == "script"
            and "src" not in attributes
            and attributes.get("type") != ("application/json")
        ):
            self.problems.append("inline <script>")
        if tag in ACTIVE_TAGS and not (tag == "meta" and self.in_head):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value.startswith(
                ("javascript:", "data:text", "vbscript:")
            ):
                self.problems.append(f"<{tag} {name}={value[:30]}>")
            if name == "src" and value.startswith(("http:", "https:", "//")):
                self.problems.append(f"<{tag} src={value[:40]}> (another site)")
            if name == "action" and value.startswith(("http:", "https:", "//")):
                self.problems.append(f"<{tag} action={value[:40]}> (another site)")

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def assert_inert(html: str, where: str, *, email: bool = False):
    inspector = Inspector()
    inspector.feed(html)
    problems = inspector.problems
    if email:  # emails carry their styles inline, and no script of any kind
        problems = [p for p in problems if p != "<style>"]
        assert "<script" not in html, where
    assert not problems, f"{where}: {problems}"
    for payload in CORPUS:
        if "<" in payload:
            assert payload not in html, f"{where}: {payload!r} came through unescaped"
    # A <textarea> or <style> typed by someone never swallows the rest of the page.
    assert html.count("<textarea") == html.count("</textarea>"), where


@pytest.fixture
def users(db):
    seed = SeedDemo()
    with transaction.atomic():
        people = seed.seed_people()
        seed.seed_teams(people)
    return people


@pytest.fixture
def hostile(users, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        hostile_names(users)
        built = build_hostile_desk(users)
    return built


STAFF = ["agent", "changemgr", "problemmgr", "manager", "admin"]


@pytest.mark.parametrize("username", STAFF)
def test_desk_pages_show_the_corpus_as_text_and_nothing_runs(client, users, hostile, username):
    client.force_login(users[username])
    shown = 0
    for url in hostile.desk_pages():
        response = client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        assert response.status_code == 200 or username != "admin", url  # admin sees them all
        if response.status_code != 200:
            continue
        html = response.content.decode()
        assert_inert(html, f"{username} {url}")
        shown += 1
    assert shown >= 10, shown


def test_the_ticket_page_shows_what_was_typed(client, users, hostile):
    """Escaped, so the browser shows each payload exactly as typed (Markdown aside)."""
    client.force_login(users["agent"])
    html = client.get(f"/desk/incidents/{hostile.incidents[0].number}/").content.decode()
    for payload in ('<script>alert("xss-script")</script>', "<textarea>", "<style>"):
        assert (
            re.sub(r'"', "&quot;", payload.replace("<", "&lt;").replace(">", "&gt;")) in (html)
            or payload.replace("<", "&lt;").replace(">", "&gt;") in html
        ), payload
    assert "{{ 7|add:7 }}" in html  # template syntax is text, never evaluated
    assert "tracker.example.com/pixel.gif" not in re.findall(r'src="([^"]*)"', html)


def test_portal_pages_show_the_corpus_as_text_and_nothing_runs(client, users, hostile):
    client.force_login(users["enduser"])
    for url in hostile.portal_pages():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_inert(response.content.decode(), f"enduser {url}")


def test_notification_emails_escape_the_corpus(users, hostile):
    """The emails the hostile records sent (created, assigned, comment...): the HTML part
    escapes every payload, the subject stays on one line."""
    assert len(mail.outbox) >= 10
    kinds = set()
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        html = {mime: body for body, mime in message.alternatives}.get("text/html")
        assert html, message.subject
        assert_inert(html, message.subject, email=True)
        kinds.add(message.subject.split(" ")[0])
        # the plain-text part is text: it carries the payloads as typed
    bodies = " ".join(message.body for message in mail.outbox)
    assert '<script>alert("xss-script")</script>' in bodies


API_CASES = [
    ("incidents", "agent", lambda h: h.incidents[0].number, ["title", "description"]),
    ("problems", "problemmgr", lambda h: h.problems[0].number, ["title", "description"]),
    ("changes", "changemgr", lambda h: h.changes[0].number, ["title", "implementation_plan"]),
    ("requests", "agent", lambda h: h.requests[0].number, ["description"]),
    ("cmdb/cis", "admin", lambda h: h.cis[0].pk, ["name", "supplier", "description"]),
    ("catalog/items", "admin", lambda h: h.items[0].pk, ["name", "summary", "description"]),
]


@pytest.mark.parametrize(("kind", "username", "key", "fields"), API_CASES)
def test_the_api_returns_the_corpus_as_typed_in_json(
    api, users, hostile, kind, username, key, fields
):
    response = api.as_(users[username]).get(f"/api/v1/{kind}/{key(hostile)}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = response.json()
    for name in fields:
        value = body[name]
        assert value == EVERYTHING or any(value.startswith(p) for p in CORPUS), (name, value)


def test_the_api_stores_what_is_typed_and_answers_it_back(api, users):
    payload = "\n".join([*CORPUS, "emoji 👩‍💻 rtl \u202eevil\u202c 100% a_b 'quoted'"])
    api.as_(users["enduser"])
    created = api.post(
        "/api/v1/incidents/", {"title": CORPUS[0], "description": payload}, format="json"
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    comment = api.post(f"/api/v1/incidents/{number}/comments/", {"body": payload}, format="json")
    assert comment.status_code == 201, comment.json()
    again = api.get(f"/api/v1/incidents/{number}/").json()
    assert again["title"] == CORPUS[0]
    assert again["description"] == payload
    comments = api.get(f"/api/v1/incidents/{number}/comments/").json()
    if isinstance(comments, dict):
        comments = comments["results"]
    bodies = [c["body"] for c in comments]
    assert payload in bodies


def test_display_names_are_escaped_wherever_people_appear(client, users, hostile):
    client.force_login(users["agent"])
    for url in (f"/desk/incidents/{hostile.incidents[0].number}/", "/desk/"):
        html = client.get(url).content.decode()
        assert HOSTILE_FIRST not in html and HOSTILE_LAST not in html, url
        assert "&lt;svg onload=alert(&quot;xss-name&quot;)&gt;" in html, url


@pytest.mark.parametrize(
    "value",
    ["bad\x00byte", {"nested": "bad\x00byte"}],
    ids=["text", "json"],
)
def test_a_nul_byte_in_a_body_is_a_400_never_a_500(api, users, value):
    api.as_(users["admin"])
    if isinstance(value, str):
        response = api.post("/api/v1/incidents/", {"title": value}, format="json")
        assert response.status_code == 400
        assert "title" in response.json()
    else:
        response = api.post(
            "/api/v1/cmdb/cis/",
            {"name": "app-nul", "ci_class": "application", "attributes": {"version": value}},
            format="json",
        )
        assert response.status_code == 400, response.content
