"""The reports API (SPEC §11): its shapes, its CSV, its errors and its query counts."""

import csv
import io

import pytest
import time_machine

from itsm.testing import make_incident, make_persona
from reports import payloads

from .conftest import NOW

pytestmark = pytest.mark.django_db

MARCH = {"from": "2026-03-02", "to": "2026-03-15"}


@pytest.fixture
def manager(api):
    return api.as_(make_persona("max"))


def get(client, path, params=None):
    with time_machine.travel(NOW, tick=False):
        return client.get(f"/api/v1/reports/{path}", params or {})


def test_incidents_report_has_exactly_the_spec_shape(desk, manager):
    response = get(manager, "incidents/", MARCH)
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-03-02",
        "to": "2026-03-15",
        "opened": 8,
        "resolved": 5,
        "mttr_seconds": 332280,
        "median_ttr_seconds": 14400,
        "fcr_rate": 0.6,
        "backlog": {"0-1d": 1, "1-7d": 2, "7-30d": 1, "30d+": 1},
        "csat": {
            "average": 3.0,
            "count": 3,
            "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1},
        },
    }


def test_filters_narrow_the_incidents_report(desk, manager):
    body = get(manager, "incidents/", {**MARCH, "team": desk.sd.pk, "priority": 5}).json()
    # Service Desk, P5: C resolved; F, H, J, K open; C rated 1
    assert (body["resolved"], body["mttr_seconds"], body["fcr_rate"]) == (1, 86400, 0.0)
    assert body["csat"]["count"] == 1


def test_the_period_defaults_to_the_last_30_days(desk, manager):
    body = get(manager, "incidents/").json()
    assert (body["from"], body["to"]) == ("2026-02-14", "2026-03-15")


def test_sla_report_has_the_spec_shape(manager, db):
    body = get(manager, "sla/", {**MARCH, "group_by": "team"}).json()
    assert body == {"from": "2026-03-02", "to": "2026-03-15", "group_by": "team", "rows": []}


def test_an_unreadable_parameter_is_a_400_naming_it(manager, db):
    response = get(manager, "incidents/", {"from": "2026-13-01", "priority": "9"})
    assert response.status_code == 400
    assert set(response.json()) == {"from", "priority"}
    assert get(manager, "sla/", {"group_by": "colour"}).json() == {
        "group_by": ["Choose priority, team or service."]
    }


def test_csv_answers_the_same_figures(desk, manager):
    response = get(manager, "incidents/", {**MARCH, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["figure", "value"]
    figures = dict(rows[1:])
    assert figures["opened"] == "8"
    assert figures["mttr_seconds"] == "332280"
    assert figures["backlog.30d+"] == "1"
    assert figures["csat.distribution.5"] == "1"


def test_trend_csv_is_a_table_of_weeks(desk, manager):
    rows = list(
        csv.reader(io.StringIO(get(manager, "trend/", {**MARCH, "format": "csv"}).content.decode()))
    )
    assert rows == [
        ["week", "label", "opened", "resolved"],
        ["2026-03-02", "2026-W10", "3", "3"],
        ["2026-03-09", "2026-W11", "5", "2"],
    ]


def test_a_label_a_person_typed_cannot_run_as_a_formula():
    text = payloads.csv_text(
        {"rows": [{"key": 7, "label": "=HYPERLINK(1)", "met": 1, "breached": 0, "compliance": 1}]}
    )
    assert text.splitlines()[1] == "7,'=HYPERLINK(1),1,0,1"


@pytest.mark.parametrize("size", [1, 3])
def test_query_counts_do_not_grow_with_the_data(
    manager, db, size, django_assert_max_num_queries, settings
):
    settings.TIME_ZONE = "UTC"
    alice = make_persona("alice")
    with time_machine.travel(NOW, tick=False):
        for _ in range(size * 5):
            make_incident(actor=alice, major=True)
    for path in ("incidents/", "trend/", "changes/", "problems/", "requests/", "sla/"):
        with django_assert_max_num_queries(12):
            assert get(manager, path).status_code == 200
