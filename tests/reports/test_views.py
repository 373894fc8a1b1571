"""The reports page and the service review page: figures shown, CSV per report, bounded
queries whatever the data."""

import csv
import io

import pytest
import time_machine
from django.test import Client

from cmdb.models import CI
from itsm.testing import make_incident, make_persona

from .conftest import NOW, ci_class

pytestmark = pytest.mark.django_db

MARCH = {"from": "2026-03-02", "to": "2026-03-15"}


@pytest.fixture
def manager():
    client = Client()
    client.force_login(make_persona("max"))
    return client


def get(client, path, params=None):
    with time_machine.travel(NOW, tick=False):
        return client.get(path, params or {})


def test_the_page_shows_the_figures_of_the_period(desk, manager):
    response = get(manager, "/reports/", MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="opened">8<' in page
    assert 'data-testid="resolved">5<' in page
    assert 'data-testid="fcr">60 %<' in page
    assert 'data-testid="csat">3.00 / 5<' in page
    assert response.context["summary"]["median_ttr_seconds"] == 4 * 3600
    assert [row["opened"] for row in response.context["trend"]] == [3, 5]


def test_each_report_downloads_as_csv(desk, manager):
    response = get(manager, "/reports/", {**MARCH, "format": "csv", "table": "backlog"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["figure", "value"],
        ["backlog.0-1d", "1"],
        ["backlog.1-7d", "2"],
        ["backlog.7-30d", "1"],
        ["backlog.30d+", "1"],
    ]
    for table in ("incidents", "trend", "csat", "changes", "problems", "requests", "sla"):
        answer = get(manager, "/reports/", {**MARCH, "format": "csv", "table": table})
        assert answer.status_code == 200, table


@pytest.fixture
def service(db):
    return CI.objects.create(name="E-mail", ci_class=ci_class("business_service"))


def test_the_service_review_page_prints_its_figures(service, manager, settings):
    settings.TIME_ZONE = "UTC"
    response = get(manager, f"/reports/services/{service.pk}/", MARCH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Service review: E-mail" in page
    assert 'data-testid="availability">100.000 %<' in page
    assert "css/reports.css" in page  # the print stylesheet
    csv_answer = get(manager, f"/reports/services/{service.pk}/", {**MARCH, "format": "csv"})
    assert dict(csv.reader(io.StringIO(csv_answer.content.decode())))["availability"] == "100.0"


@pytest.mark.parametrize("size", [1, 4])
def test_pages_take_a_bounded_number_of_queries(
    service, manager, size, django_assert_max_num_queries
):
    alice = make_persona("alice")
    with time_machine.travel(NOW, tick=False):
        for n in range(size * 4):
            make_incident(actor=alice, service=service, major=bool(n % 2), title=f"Down {n}")
    with django_assert_max_num_queries(25):
        assert get(manager, "/reports/").status_code == 200
    with django_assert_max_num_queries(25):
        assert get(manager, f"/reports/services/{service.pk}/").status_code == 200
