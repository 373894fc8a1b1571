"""Each report figure of SPEC §10 against the hand-computed desk of ``conftest.py``."""

from datetime import date

import pytest

from reports import figures
from sla.dashboard import Filters

from .conftest import NOW, at, make_change, make_problem, make_request

pytestmark = pytest.mark.django_db

MARCH = {"start": date(2026, 3, 2), "end": date(2026, 3, 15)}
HOUR, DAY = 3600, 86400


def period(**filters):
    return Filters(**MARCH, **filters)


def test_opened_counts_incidents_created_in_the_period_whatever_their_state(desk):
    # A B C D F G I J (E, H and K were opened before 2 March)
    assert figures.opened_count(period()) == 8


def test_mttr_and_median_over_incidents_resolved_in_the_period(desk):
    # A 1 h, B 4 h, C 24 h (first resolution undone by the reopen), D 30 min, E 18 days
    found = figures.resolution(period())
    assert found["resolved"] == 5
    assert found["mttr_seconds"] == (HOUR + 4 * HOUR + DAY + HOUR // 2 + 18 * DAY) // 5 == 332280
    assert found["median_ttr_seconds"] == 4 * HOUR


def test_first_contact_excludes_a_move_between_teams_and_a_reopen(desk):
    # A, D and E: B moved from SD to NET, C was reopened
    found = figures.resolution(period())
    assert found["first_contact"] == 3
    assert found["fcr_rate"] == 0.6


def test_filters_apply_to_the_resolution_figures(desk, settings):
    team = figures.resolution(period(team=desk.sd.pk))  # A, C, E (B ended at NET)
    assert team["resolved"] == 3
    assert team["mttr_seconds"] == (HOUR + DAY + 18 * DAY) // 3 == 548400
    assert team["median_ttr_seconds"] == DAY
    assert team["fcr_rate"] == round(2 / 3, 4)
    planning = figures.resolution(period(priority=5))  # C and D
    assert planning["mttr_seconds"] == planning["median_ttr_seconds"] == (DAY + HOUR // 2) // 2


def test_nothing_resolved_gives_no_rate_rather_than_zero(desk):
    found = figures.resolution(Filters(start=date(2025, 1, 1), end=date(2025, 1, 31)))
    assert found == {
        "resolved": 0,
        "mttr_seconds": None,
        "median_ttr_seconds": None,
        "first_contact": 0,
        "fcr_rate": None,
    }


def test_backlog_counts_open_incidents_by_age_whatever_the_period(desk):
    # J 4 h; F 5 days (on hold counts), G 1 day; K 14 days; H 42 days. I canceled, others done.
    expected = {"0-1d": 1, "1-7d": 2, "7-30d": 1, "30d+": 1}
    assert figures.backlog(period(), NOW) == expected
    assert figures.backlog(Filters(start=date(2020, 1, 1), end=date(2020, 1, 2)), NOW) == expected
    assert figures.backlog(period(team=desk.net.pk), NOW) == {
        "0-1d": 0,
        "1-7d": 1,
        "7-30d": 0,
        "30d+": 0,
    }


def test_csat_counts_ratings_given_in_the_period(desk):
    # A 5, B 3, C 1; E was rated on 16 March, after the period
    assert figures.csat(period()) == {
        "average": 3.0,
        "count": 3,
        "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1},
    }
    assert figures.csat(Filters(start=date(2026, 3, 2), end=date(2026, 3, 16)))["average"] == 3.25


def test_volume_trend_counts_opened_and_resolved_per_week(desk):
    assert figures.volume_trend(period()) == [
        # A B C opened; A B C resolved (C's final resolution on the 5th)
        {"week": date(2026, 3, 2), "label": "2026-W10", "opened": 3, "resolved": 3},
        # D F I G J opened; D E resolved
        {"week": date(2026, 3, 9), "label": "2026-W11", "opened": 5, "resolved": 2},
    ]


def test_incident_summary_has_the_api_shape(desk):
    summary = figures.incident_summary(period(), NOW)
    assert list(summary) == [
        "from",
        "to",
        "opened",
        "resolved",
        "mttr_seconds",
        "median_ttr_seconds",
        "fcr_rate",
        "backlog",
        "csat",
    ]
    assert (summary["opened"], summary["resolved"], summary["fcr_rate"]) == (8, 5, 0.6)


def test_change_success_rate_over_changes_closed_in_the_period(desk, service):
    make_change(closed_at=at(3, 3), outcome="successful", cis=[service])
    make_change(closed_at=at(3, 4), outcome="successful_with_issues")
    make_change(closed_at=at(3, 5), outcome="failed", cis=[service])
    make_change(closed_at=at(3, 6), outcome="backed_out")
    make_change(closed_at=at(2, 27), outcome="successful")  # before the period
    make_change(closed_at=at(3, 7), outcome="", state="canceled")  # never implemented
    found = figures.change_outcomes(period())
    assert found == {
        "total": 4,
        "successful": 1,
        "successful_with_issues": 1,
        "failed": 1,
        "backed_out": 1,
        "success_rate": 0.5,
    }
    on_service = figures.change_outcomes(period(service=service.pk))
    assert (on_service["total"], on_service["success_rate"]) == (2, 0.5)


def test_problem_counts_and_published_known_errors(desk, service):
    make_problem(created_at=at(3, 3), services=[service])  # opened, open
    make_problem(
        created_at=at(2, 1),
        state="resolved",
        resolved_at=at(3, 10),
        known_error=True,
        publish_workaround=True,
        workaround="Restart the relay.",
    )  # resolved in the period, published
    make_problem(created_at=at(3, 4), state="root_cause_analysis", known_error=True)
    make_problem(created_at=at(2, 1), state="canceled", known_error=True)
    assert figures.problem_counts(period()) == {
        "opened": 2,
        "resolved": 1,
        "open": 2,
        "known_errors": 2,
        "published_known_errors": 1,
    }
    assert figures.problem_counts(period(service=service.pk))["open"] == 1


def test_request_fulfilment_times(desk, service):
    make_request(created_at=at(3, 2), fulfilled_at=at(3, 3))  # 1 day
    make_request(created_at=at(3, 5), fulfilled_at=at(3, 5, 11), service=service)  # 2 h
    make_request(created_at=at(3, 9, 12), fulfilled_at=at(3, 10, 12))  # 1 day
    make_request(created_at=at(3, 6), fulfilled_at=at(3, 20))  # after the period
    make_request(created_at=at(3, 6), state="in_fulfillment")
    assert figures.fulfilment(period()) == {
        "fulfilled": 3,
        "mean_seconds": (DAY + 2 * HOUR + DAY) // 3,
        "median_seconds": DAY,
    }
    assert figures.fulfilment(period(service=service.pk))["mean_seconds"] == 2 * HOUR


def test_each_figure_takes_a_fixed_number_of_queries(desk, django_assert_max_num_queries):
    # nothing rolled: the incident summary reads the days the roll-up covers (none), then three
    # live aggregations (opened, resolved, rated), the median, the backlog (6); the trend the
    # first four (4); changes, problems, requests one each. With days rolled, see test_rollup.py
    with django_assert_max_num_queries(13):
        figures.incident_summary(period(), NOW)
        figures.volume_trend(period())
        figures.change_outcomes(period())
        figures.problem_counts(period())
        figures.fulfilment(period())
