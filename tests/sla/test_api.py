"""SLA API: a ticket's timers, calendars and policies — wiring, permissions, errors (SPEC §11)."""

from datetime import date

import pytest
import time_machine

from itsm.testing import make_incident
from sla.models import Calendar, Policy, Timer

from .conftest import ALWAYS_HOURS, HOUR, MINUTE, make_policy, paris, utc

pytestmark = pytest.mark.django_db

CALENDARS = "/api/v1/sla/calendars/"
POLICIES = "/api/v1/sla/policies/"


def timers_url(incident) -> str:
    return f"/api/v1/incidents/{incident.number}/sla/"


@pytest.fixture
def incident(always, rita, alice):
    make_policy(always, response=15 * MINUTE, resolution=4 * HOUR)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        return make_incident(actor=rita, requester=rita)


# --- incidents/{number}/sla/ ---------------------------------------------------------------------


def test_timers_read_per_spec(api, incident, alice):
    with time_machine.travel(utc(2026, 3, 2, 9, 10), tick=False):
        response = api.as_(alice).get(timers_url(incident))
    assert response.status_code == 200
    first, last = response.json()
    assert set(first) >= {
        "metric",
        "policy",
        "state",
        "started_at",
        "due_at",
        "elapsed_seconds",
        "remaining_seconds",
        "breached_at",
        "met_at",
    }
    assert first["metric"] == "response" and last["metric"] == "resolution"
    assert first["state"] == "running" and isinstance(first["policy"], int)
    assert first["elapsed_seconds"] == 10 * MINUTE
    assert first["remaining_seconds"] == 5 * MINUTE
    assert first["due_at"].startswith("2026-03-02T09:15:00")


def test_an_overrun_reads_negative_remaining_and_breached(api, incident, alice):
    with time_machine.travel(utc(2026, 3, 2, 9, 20), tick=False):
        first = api.as_(alice).get(timers_url(incident)).json()[0]
    assert first["state"] == "breached"
    assert first["breached_at"].startswith("2026-03-02T09:15:00")
    assert first["remaining_seconds"] == -5 * MINUTE


def test_timers_are_for_staff_the_requester_gets_403_as_any_end_user(api, incident, rita, eve):
    """The portal never shows timers; the API keeps the same rule (``sla.permissions``), and
    answers before the lookup, so the status says nothing of whether the ticket exists."""
    assert api.as_(rita).get(timers_url(incident)).status_code == 403
    assert api.as_(eve).get(timers_url(incident)).status_code == 403
    assert api.as_(eve).get("/api/v1/incidents/INC9999999/sla/").status_code == 403


def test_anonymous_is_refused(api, incident):
    assert api.get(timers_url(incident)).status_code in (401, 403)


def test_timer_list_query_count_is_fixed(api, incident, alice, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        api.as_(alice).get(timers_url(incident))


# --- Calendars ----------------------------------------------------------------------------------

PARIS = {
    "name": "Paris",
    "timezone": "Europe/Paris",
    "hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)],
    "holidays": [{"date": "2026-05-01", "name": "Fête du travail"}],
}


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("rita", 403, 403), ("alice", 200, 403), ("max_", 200, 201), ("ada", 200, 201)],
)
def test_calendar_permissions(api, request, who, read, write):
    user = request.getfixturevalue(who)
    client = api.as_(user)
    assert client.get(CALENDARS).status_code == read
    assert client.post(CALENDARS, PARIS, format="json").status_code == write


def test_manager_creates_reads_and_edits_a_calendar(api, max_):
    created = api.as_(max_).post(CALENDARS, PARIS, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["hours"][0] == {"weekday": 0, "start": "09:00", "end": "18:00"}
    assert body["holidays"] == [{"date": "2026-05-01", "name": "Fête du travail"}]
    url = f"{CALENDARS}{body['id']}/"
    patched = api.as_(max_).patch(url, {"hours": ALWAYS_HOURS, "version": 1}, format="json")
    assert patched.status_code == 200
    assert patched.json()["version"] == 2
    assert patched.json()["holidays"] == body["holidays"]  # kept when not sent
    stale = api.as_(max_).patch(url, {"name": "Paris 2", "version": 1}, format="json")
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": []}, "hours"),
        ({"hours": [{"weekday": 0, "start": "18:00", "end": "09:00"}]}, "hours"),
        ({"hours": [{"weekday": 0, "start": "09:00", "end": "25:00"}]}, "hours"),
        (
            {
                "hours": [
                    {"weekday": 0, "start": "09:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "13:00"},
                ]
            },
            "hours",
        ),
        ({"hours": [{"weekday": 7, "start": "09:00", "end": "12:00"}]}, "hours"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holidays": [{"date": "2026-02-30"}]}, "holidays"),
    ],
)
def test_invalid_calendars_are_refused_with_400_per_field(api, max_, change, field):
    response = api.as_(max_).post(CALENDARS, {**PARIS, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_calendar_edit_recomputes_running_timers(
    api, max_, office, alice, django_capture_on_commit_callbacks
):
    make_policy(office, resolution=4 * HOUR)
    with time_machine.travel(paris(2026, 1, 16, 16, 0), tick=False):
        incident = make_incident(actor=alice)
    url = f"{CALENDARS}{office.pk}/"
    holidays = [{"date": "2026-01-19", "name": "Closed"}]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(max_).patch(url, {"holidays": holidays}, format="json")
    assert response.status_code == 200
    timer = Timer.objects.get(incident=incident, metric="resolution")
    assert timer.due_at == paris(2026, 1, 20, 11, 0)
    assert timer.calendar_spec["holidays"] == ["2026-01-19"]


def test_a_calendar_in_use_cannot_be_deleted(api, max_, office):
    make_policy(office)
    assert api.as_(max_).delete(f"{CALENDARS}{office.pk}/").status_code == 409
    spare = Calendar.objects.create(name="Spare", hours=ALWAYS_HOURS)
    assert api.as_(max_).delete(f"{CALENDARS}{spare.pk}/").status_code == 204


# --- Policies -----------------------------------------------------------------------------------


def policy_body(cal, **changes):
    return {
        "name": "P1",
        "applies_to": "incident",
        "priorities": [1],
        "service": None,
        "calendar": cal.pk,
        "order": 10,
        "response_seconds": 900,
        "resolution_seconds": 14400,
        "pause_on": ["awaiting_caller"],
        "warn_at": [50, 75, 90],
        **changes,
    }


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("rita", 403, 403), ("alice", 200, 403), ("max_", 200, 201)],
)
def test_policy_permissions(api, request, always, who, read, write):
    client = api.as_(request.getfixturevalue(who))
    assert client.get(POLICIES).status_code == read
    assert client.post(POLICIES, policy_body(always), format="json").status_code == write


def test_policies_list_in_matching_order(api, max_, always):
    make_policy(always, name="late", order=50)
    make_policy(always, name="early", order=5)
    names = [p["name"] for p in api.as_(max_).get(POLICIES).json()["results"]]
    assert names == ["early", "late"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priorities": [0]}, "priorities"),
        ({"pause_on": ["lunch"]}, "pause_on"),
        ({"warn_at": [100]}, "warn_at"),
        ({"response_seconds": 0}, "response_seconds"),
        ({"breach_notify": ["everyone"]}, "breach_notify"),
        ({"calendar": 999999}, "calendar"),
    ],
)
def test_invalid_policies_are_refused_with_400_per_field(api, max_, always, change, field):
    response = api.as_(max_).post(POLICIES, policy_body(always, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_policy_edit_recomputes_running_timers_on_commit(
    api, max_, always, alice, django_capture_on_commit_callbacks
):
    policy = make_policy(always, response=HOUR, resolution=4 * HOUR)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        incident = make_incident(actor=alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(max_).patch(
            f"{POLICIES}{policy.pk}/", {"resolution_seconds": 2 * HOUR}, format="json"
        )
    assert response.status_code == 200
    timer = Timer.objects.get(incident=incident, metric="resolution")
    assert timer.target_seconds == 2 * HOUR and timer.due_at == utc(2026, 3, 2, 11)


def test_a_policy_that_measured_tickets_cannot_be_deleted(api, max_, always, incident):
    policy = Policy.objects.get()
    assert api.as_(max_).delete(f"{POLICIES}{policy.pk}/").status_code == 409
    unused = make_policy(always, name="unused", priorities=[5])
    assert api.as_(max_).delete(f"{POLICIES}{unused.pk}/").status_code == 204


def test_schema_lists_the_sla_endpoints(api, alice):
    schema = api.as_(alice).get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/incidents/{number}/sla/" in paths
    assert "/api/v1/sla/policies/" in paths and "/api/v1/sla/calendars/{id}/" in paths


def test_holiday_dates_are_iso(api, max_, office):
    office.holidays.create(date=date(2026, 12, 25), name="Noël")
    body = api.as_(max_).get(f"{CALENDARS}{office.pk}/").json()
    assert body["holidays"] == [{"date": "2026-12-25", "name": "Noël"}]


def test_request_policies_can_be_configured_before_the_catalog_lands(api, max_, always):
    body = policy_body(always, name="Requests", applies_to="request", pause_on=[])
    response = api.as_(max_).post(POLICIES, body, format="json")
    assert response.status_code == 201
    assert response.json()["applies_to"] == "request"


def test_a_recompute_lost_with_the_broker_is_done_by_the_scanners_sweep(
    api, max_, always, alice, monkeypatch, django_capture_on_commit_callbacks
):
    """The edit writes the owed recompute in its own transaction: with the broker down at
    commit nothing is lost, the next scan does it."""
    from sla import tasks
    from sla.models import RecomputeJob

    policy = make_policy(always, response=HOUR, resolution=4 * HOUR)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        incident = make_incident(actor=alice)

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.recompute, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        api.as_(max_).patch(f"{POLICIES}{policy.pk}/", {"resolution_seconds": 2 * HOUR})
    timer = Timer.objects.get(incident=incident, metric="resolution")
    assert timer.target_seconds == 4 * HOUR  # not yet: the task never reached a worker
    job = RecomputeJob.objects.get()
    assert job.done_at is None
    RecomputeJob.objects.filter(pk=job.pk).update(created_at=utc(2026, 3, 2, 9, 30))
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):  # the next scan, a bit later
        tasks.scan()
    timer.refresh_from_db()
    assert timer.target_seconds == 2 * HOUR and timer.due_at == utc(2026, 3, 2, 11)
    assert RecomputeJob.objects.get().done_at is not None


def test_a_recompute_job_resumes_where_its_worker_stopped(always, alice, monkeypatch):
    from sla import services as sla_services
    from sla.models import RecomputeJob

    policy = make_policy(always, response=HOUR, resolution=4 * HOUR)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        incidents = [make_incident(actor=alice) for _ in range(3)]
    Policy.objects.filter(pk=policy.pk).update(resolution_seconds=2 * HOUR, version=2)
    job = RecomputeJob.objects.create(applies_to="incident")
    real = sla_services.recompute_batch
    calls = []

    def one_chunk_then_die(**kwargs):
        calls.append(kwargs["after_id"])
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real(**{**kwargs, "limit": 2})

    monkeypatch.setattr(sla_services, "recompute_batch", one_chunk_then_die)
    with pytest.raises(SystemExit):
        sla_services.work_recompute_job(job.pk, budget=60)
    job.refresh_from_db()
    assert job.after_id > 0 and job.done_at is None
    monkeypatch.setattr(sla_services, "recompute_batch", lambda **kw: real(**{**kw, "limit": 2}))
    RecomputeJob.objects.filter(pk=job.pk).update(leased_until=None)  # the lease ran out
    assert sla_services.work_recompute_job(job.pk, budget=60) is True
    targets = Timer.objects.filter(incident__in=incidents, metric="resolution")
    assert {t.target_seconds for t in targets} == {2 * HOUR}
