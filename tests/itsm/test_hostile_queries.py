"""SQL-ish and unicode edge cases in searches, filters, orderings and cursors: every list page
and API list answers them (2xx, or a 4xx that names the problem), never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

from itsm.testing import make_incident, make_persona, project_routes

EDGE_VALUES = [
    "\x00",
    "abc\x00def",
    "' OR '1'='1",
    "%",
    "_",
    "\\",
    "\u202eevil\u202c",
    "💥👩‍💻",
    "x" * 10_000,
    "-1",
    "99999999999999999999999",
    "<script>alert(1)</script>",
]
# Query parameters lists take (search, filters, ordering, paging), each set to the edge value.
PARAMETERS = [
    "q",
    "search",
    "ordering",
    "sort",
    "state",
    "priority",
    "status",
    "team",
    "assignee",
    "assignment_group",
    "service",
    "ci_class",
    "environment",
    "queue",
    "cursor",
    "page",
    "from",
    "to",
    "group_by",
    "type",
    "risk",
    "category",
    "request",
    "active",
    "kind",
    "read",
]


def list_urls() -> list[str]:
    """Every GET route that needs no argument: the list pages, lookups and API lists."""
    urls = []
    for name, methods in project_routes(exclude=("admin:",)):
        if methods and "GET" not in methods:
            continue
        try:
            urls.append(reverse(name))
        except Exception:  # noqa: BLE001,S112 (a route that needs arguments)
            continue
    return urls


@pytest.fixture
def callers(db, rita, alice):
    make_incident(requester=rita, title="Printer 100% broken_down")
    return {"end user": rita, "agent": alice, "admin": make_persona("ada")}


@pytest.mark.parametrize("caller", ["end user", "agent", "admin"])
def test_no_edge_case_in_a_search_or_filter_answers_500(callers, caller):
    client = Client(raise_request_exception=False)
    client.force_login(callers[caller])
    urls = list_urls()
    assert len(urls) > 30, urls
    failures = []
    for url in urls:
        for value in EDGE_VALUES:
            filters = {name: value for name in PARAMETERS if name not in ("q", "search")}
            for params in (filters, {"q": value, "search": value}):
                response = client.get(url, params)
                if response.status_code >= 500:
                    failures.append(f"{url} {'&'.join(sorted(params))}={value[:20]!r}")
                    break
    assert not failures, "\n".join(failures)


def test_percent_and_underscore_are_no_wildcards_in_a_search(client, callers):
    make_incident(requester=callers["end user"], title="Scanner jammed")
    client.force_login(callers["agent"])
    for value, titles in [
        ("%", []),
        ("_", []),
        ("%%", []),
        ("100%", ["Printer 100% broken_down"]),
        ("broken_", ["Printer 100% broken_down"]),
    ]:
        found = client.get("/api/v1/incidents/", {"search": value}).json()["results"]
        assert [i["title"] for i in found] == titles, value


def test_a_nul_character_in_a_query_is_a_400_that_says_why(client, callers):
    client.force_login(callers["agent"])
    api = client.get("/api/v1/incidents/", {"search": "abc\x00"})
    assert api.status_code == 400
    assert "NUL" in api.json()["detail"]
    page = client.get("/desk/", {"q": "\x00"})
    assert page.status_code == 400
    assert "cannot contain a NUL character" in page.content.decode()
