"""A search's page: read through a bounded window of the list when matches are dense, through
the full-text index when they are rare, and the same rows in the same order either way."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident
from itsm import pagination, search
from itsm.testing import make_incident

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the window reads PostgreSQL's full-text vectors"
)
ORDERINGS = [["priority", "-created_at"], ["-created_at"], ["number"]]


@pytest.fixture
def desk(db, monkeypatch):
    """Twelve incidents: every third is about the printer, one about a zebra."""
    monkeypatch.setattr(search, "WINDOW", 4)
    for n in range(12):
        title = f"Printer jam on floor {n}" if n % 3 == 0 else f"Mail bounces {n}"
        make_incident(title=title, impact=1 + n % 3, urgency=1 + (n // 3) % 3)
    make_incident(title="A zebra crossed the server room", impact=3, urgency=3)
    return Incident.objects.all()


def _expected(queryset, ordering):
    plain = queryset.all()
    plain.query.search_base = None  # the query PostgreSQL is left to plan on its own
    fields = pagination._key_fields(ordering)
    order_by = [f"-{name}" if desc else name for name, desc in fields]
    return [row.pk for row in plain.order_by(*order_by)]


def _walk(queryset, ordering, size):
    """Every page forwards, then back from the last: the rows each page showed."""
    pages, cursor = [], None
    while True:
        page = pagination.paginate(queryset, ordering, cursor=cursor, size=size)
        pages.append([row.pk for row in page.rows])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    back = []
    while page.previous_cursor:
        page = pagination.paginate(queryset, ordering, cursor=page.previous_cursor, size=size)
        back.insert(0, [row.pk for row in page.rows])
    return pages, back


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("text", ["printer", "print jam", "zebra", "nothing-matches", "mail"])
@pytest.mark.parametrize("size", [1, 2, 5])
def test_every_page_holds_the_rows_the_plain_query_orders(desk, text, ordering, size):
    found = search.search(desk, text, internal=True)
    expected = _expected(found, ordering)
    pages, back = _walk(found, ordering, size)
    assert [pk for rows in pages for pk in rows] == expected
    assert back == pages[:-1]


def test_dense_matches_are_read_from_the_window_only(desk):
    """Mail matches 8 rows of 13: a page of 2 is found in the first 4 rows of the list."""
    found = search.search(desk, "mail", internal=True)
    with CaptureQueriesContext(connection) as captured:
        page = pagination.paginate(found, ["number"], cursor=None, size=1)
    assert [row.title for row in page.rows] == ["Mail bounces 1"]
    assert not any("enable_indexscan" in q["sql"] for q in captured.captured_queries)


def test_rare_matches_are_read_through_the_index(desk):
    """The zebra is not in the first 4 rows of the list: the full-text index answers."""
    found = search.search(desk, "zebra", internal=True)
    with CaptureQueriesContext(connection) as captured:
        page = pagination.paginate(found, ["number"], cursor=None, size=5)
    assert [row.title for row in page.rows] == ["A zebra crossed the server room"]
    assert any("enable_indexscan = off" in q["sql"] for q in captured.captured_queries)


def test_a_filter_after_the_search_still_applies(desk):
    """The window reads the list before the search; a filter added later narrows the page."""
    found = search.search(desk, "printer", internal=True).filter(priority__gte=3)
    pages, _back = _walk(found, ["number"], 1)
    assert [pk for rows in pages for pk in rows] == _expected(found, ["number"])
    assert all(Incident.objects.get(pk=rows[0]).priority >= 3 for rows in pages if rows)


def test_a_number_is_found_in_any_case(desk):
    number = Incident.objects.order_by("pk").last().number
    for text in (number, number.lower()):
        page = pagination.paginate(
            search.search(desk, text, internal=True), ["-created_at"], cursor=None, size=5
        )
        assert [row.number for row in page.rows] == [number]


def test_the_index_walk_is_switched_back_on_for_what_follows(desk):
    """Inside a caller's transaction too (a savepoint), the next statement plans as usual."""
    found = search.search(desk, "zebra", internal=True)
    with transaction.atomic():
        pagination.paginate(found, ["number"], cursor=None, size=5)
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_indexscan")
            assert cursor.fetchone()[0] == "on"
            cursor.execute("SHOW enable_seqscan")
            assert cursor.fetchone()[0] == "on"
