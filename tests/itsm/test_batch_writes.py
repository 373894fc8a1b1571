"""``itsm.db.insert_rows``: many rows in one statement, without a model instance each."""

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.db import insert_rows
from itsm.models import Notification

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_rows_are_inserted_in_one_statement_and_their_ids_come_back_in_order(db, alice, bob):
    rows = [
        {
            "recipient_id": user.pk,
            "kind": "state",
            "subject": f"to {user.username}",
            "message": "m",
            "params": {"title": "Ça marche", "n": 2, "none": None},
            "created_at": WHEN,
            "next_attempt_at": None,
        }
        for user in (bob, alice, bob)
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = insert_rows(Notification, rows)
    assert len(queries) == 1
    written = Notification.objects.in_bulk(ids)
    assert [written[pk].subject for pk in ids] == ["to bob", "to alice", "to bob"]
    row = written[ids[1]]
    assert row.recipient == alice
    assert row.params == {"title": "Ça marche", "n": 2, "none": None}
    assert row.created_at == WHEN
    assert row.next_attempt_at is None
    # fields left out take their defaults
    assert (row.email_state, row.email_attempts, row.in_app, row.last_error, row.url) == (
        Notification.Email.PENDING,
        0,
        True,
        "",
        "",
    )


def test_nothing_comes_back_when_not_asked_and_no_rows_cost_no_query(db, alice):
    row = {"recipient_id": alice.pk, "kind": "state", "subject": "s", "message": "m"}
    assert insert_rows(Notification, [row, row], returning=False) == []
    assert Notification.objects.filter(recipient=alice, subject="s").count() == 2
    with CaptureQueriesContext(connection) as queries:
        assert insert_rows(Notification, []) == []
    assert len(queries) == 0
