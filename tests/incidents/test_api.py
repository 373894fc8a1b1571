import itertools
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents import services
from incidents.models import Incident
from incidents.workflow import WORKFLOW, State
from itsm.models import Notification
from itsm.testing import make_incident

REQUIRED = {
    "on_hold": {"hold_reason": "awaiting_vendor"},
    "resolved": {"resolution_code": "fixed", "resolution_notes": "Rebooted."},
}
PATH = {
    "new": [],
    "in_progress": ["in_progress"],
    "on_hold": ["on_hold"],
    "resolved": ["resolved"],
    "closed": ["resolved", "closed"],
    "canceled": ["canceled"],
}
SECRET = "zebra-internal-7731"


def url(incident, suffix=""):
    return f"/api/v1/incidents/{incident.number}/{suffix}"


def incident_in(state, actor):
    incident = make_incident()
    for step in PATH[state]:
        services.change_state(incident, step, actor=actor, **REQUIRED.get(step, {}))
    return incident


@pytest.mark.parametrize(("source", "target"), list(itertools.product(State.values, repeat=2)))
def test_every_state_pair_through_the_api(db, api, alice, source, target):
    incident = incident_in(source, alice)
    response = api.as_(alice).post(
        url(incident, "transition/"), {"state": target, **REQUIRED.get(target, {})}, format="json"
    )
    if WORKFLOW.can(source, target):
        assert response.status_code == 200, response.content
        assert response.json()["state"] == target
    else:
        assert response.status_code == 409, response.content
        assert response.json()["allowed"] == WORKFLOW.allowed(source)


def test_a_transition_missing_its_fields_is_a_400_naming_them(db, api, alice):
    incident = make_incident()
    response = api.as_(alice).post(url(incident, "transition/"), {"state": "resolved"})
    assert response.status_code == 400
    assert set(response.json()) == {"resolution_code", "resolution_notes"}


def test_a_transition_with_an_unknown_state_is_a_400(db, api, alice):
    response = api.as_(alice).post(url(make_incident(), "transition/"), {"state": "done"})
    assert response.status_code == 400
    assert "state" in response.json()


# --- End users


def test_an_end_user_creates_an_incident_for_themself(db, api, rita):
    response = api.as_(rita).post(
        "/api/v1/incidents/",
        {"title": "Laptop battery swollen", "description": "It bulges.", "urgency": 1},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("INC") and len(body["number"]) == 10
    assert body["requester"] == rita.pk
    assert body["state"] == "new"
    assert body["urgency"] == 1
    # the requester reads what they reported, not its handling (SPEC §1)
    assert not {"impact", "priority", "assignee", "ci", "watchers"} & set(body)
    incident = Incident.objects.get(number=body["number"])
    assert (incident.impact, incident.urgency, incident.priority) == (3, 1, 3)


@pytest.mark.parametrize(
    "field,value",
    [
        ("priority", 1),
        ("impact", 1),
        ("assignee", "alice"),
        ("assignment_group", None),
        ("state", "resolved"),
        ("requester", "eve"),
        ("major", True),
    ],
)
def test_an_end_user_cannot_set_protected_fields(db, api, rita, alice, eve, field, value):
    value = {"alice": alice.pk, "eve": eve.pk}.get(value, value)
    response = api.as_(rita).post(
        "/api/v1/incidents/", {"title": "x", "urgency": 2, field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Incident.objects.exists()


def test_an_end_user_sees_only_their_own_incidents(db, api, rita, eve):
    mine = make_incident(requester=rita)
    theirs = make_incident(requester=eve)
    api.as_(rita)
    numbers = [i["number"] for i in api.get("/api/v1/incidents/").json()["results"]]
    assert numbers == [mine.number]
    assert api.get(url(theirs)).status_code == 404
    assert api.patch(url(theirs), {"title": "hacked"}, format="json").status_code == 404
    assert api.post(url(theirs, "comments/"), {"body": "hi"}).status_code == 404
    assert api.get(url(theirs, "history/")).status_code == 404
    assert api.post(url(theirs, "transition/"), {"state": "canceled"}).status_code == 404
    assert api.post(url(theirs, "rating/"), {"score": 5}).status_code == 404


def test_a_watched_incident_is_visible_to_the_watcher(db, api, rita, eve, alice):
    theirs = make_incident(requester=eve)
    theirs.watchers.add(rita)
    assert api.as_(rita).get(url(theirs)).status_code == 200


def test_an_end_user_may_cancel_their_new_incident_but_not_resolve_it(db, api, rita):
    incident = make_incident(requester=rita)
    api.as_(rita)
    refused = api.post(url(incident, "transition/"), {"state": "resolved", **REQUIRED["resolved"]})
    assert refused.status_code == 403
    assert api.post(url(incident, "transition/"), {"state": "canceled"}).status_code == 200


def test_an_end_user_confirms_or_reopens_a_resolution(db, api, rita, alice):
    incident = make_incident(requester=rita)
    services.resolve(incident, actor=alice, code="fixed", notes="Done")
    api.as_(rita)
    assert api.post(url(incident, "transition/"), {"state": "in_progress"}).status_code == 200
    services.resolve(incident, actor=alice, code="fixed", notes="Really done")
    assert api.post(url(incident, "transition/"), {"state": "closed"}).status_code == 200


def test_a_cab_member_is_an_end_user_for_incidents(db, api, carol, rita):
    theirs = make_incident(requester=rita)
    assert api.as_(carol).get(url(theirs)).status_code == 404


def test_anonymous_callers_get_401(db, api):
    assert api.get("/api/v1/incidents/").status_code == 401


# --- Internal notes never reach end users


@pytest.fixture
def noted(db, rita, alice, django_capture_on_commit_callbacks):
    incident = make_incident(requester=rita)
    with django_capture_on_commit_callbacks(execute=True):
        services.comment(incident, actor=alice, body="Public: we are on it.")
        services.comment(incident, actor=alice, body=f"Internal {SECRET}", internal=True)
    return incident


def test_internal_notes_stay_out_of_everything_the_requester_gets(db, api, rita, noted):
    api.as_(rita)
    pages = [
        api.get("/api/v1/incidents/").content,
        api.get(url(noted)).content,
        api.get(url(noted, "comments/")).content,
        api.get(url(noted, "history/")).content,
        api.get("/api/v1/notifications/").content,
    ]
    for page in pages:
        assert SECRET.encode() not in page
    assert api.get(f"/api/v1/incidents/?search={SECRET}").json()["results"] == []
    assert all(SECRET not in m.body and SECRET not in m.subject for m in mail.outbox)
    assert not Notification.objects.filter(recipient=rita, message__contains=SECRET).exists()
    comments = api.get(url(noted, "comments/")).json()
    assert [c["internal"] for c in comments] == [False]


def test_agents_see_and_search_internal_notes(db, api, alice, noted):
    api.as_(alice)
    comments = api.get(url(noted, "comments/")).json()
    assert [c["internal"] for c in comments] == [False, True]
    found = api.get(f"/api/v1/incidents/?search={SECRET}").json()["results"]
    assert [i["number"] for i in found] == [noted.number]


def test_an_end_user_cannot_write_an_internal_note(db, api, rita):
    incident = make_incident(requester=rita)
    response = api.as_(rita).post(url(incident, "comments/"), {"body": "x", "internal": True})
    assert response.status_code == 403
    assert not incident.comments.exists()


# --- Fields, priority, locking


def test_priority_follows_impact_and_urgency(db, api, alice):
    incident = make_incident()
    body = api.as_(alice).patch(url(incident), {"impact": 1, "urgency": 2}, format="json").json()
    assert body["priority"] == 2
    refused = api.patch(url(incident), {"priority": 5}, format="json")
    assert refused.status_code == 400
    assert "priority" in refused.json()


@pytest.mark.parametrize(
    ("language", "state", "priority"),
    [("en", "In progress", "2 - High"), ("fr", "En cours", "2 - Haute")],
)
def test_labels_come_in_the_callers_language(db, api, alice, language, state, priority):
    incident = make_incident(impact=1, urgency=2)
    services.change_state(incident, "in_progress", actor=alice)
    api.as_(alice)
    for body in (
        api.get(url(incident), HTTP_ACCEPT_LANGUAGE=language).json(),
        api.get("/api/v1/incidents/", HTTP_ACCEPT_LANGUAGE=language).json()["results"][0],
    ):
        assert (body["state"], body["state_display"]) == ("in_progress", state)
        assert (body["priority"], body["priority_display"]) == (2, priority)


def test_assigning_notifies_the_assignee(db, api, alice, bob):
    incident = make_incident()
    api.as_(alice).patch(url(incident), {"assignee": bob.pk}, format="json")
    assert Notification.objects.filter(recipient=bob, kind="assigned").count() == 1


def test_a_team_only_assignment_notifies_its_members(db, api, alice, bob):
    incident = make_incident()
    team = bob.teams.get()
    api.as_(alice).patch(url(incident), {"assignment_group": team.pk}, format="json")
    assert Notification.objects.filter(recipient=bob, kind="assigned").count() == 1


# --- Search, filters, ordering, paging


def test_filters_by_state_priority_and_dates(db, api, alice):
    old = make_incident(title="old one", impact=1, urgency=1)
    Incident.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = make_incident(title="new one")
    services.change_state(new, "in_progress", actor=alice)
    api.as_(alice)

    def numbers(query):
        return [i["number"] for i in api.get(f"/api/v1/incidents/?{query}").json()["results"]]

    assert numbers("state=in_progress") == [new.number]
    assert numbers("state=in_progress&state=new") == [new.number, old.number]
    assert numbers("priority=1") == [old.number]
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert numbers(f"created_after={since}") == [new.number]


def test_search_finds_words_in_titles_and_public_comments(db, api, alice, rita):
    hit = make_incident(title="Printer jammed again")
    other = make_incident(title="Screen flickers")
    services.comment(other, actor=alice, body="Replaced the HDMI cable")
    api.as_(alice)
    assert [i["number"] for i in api.get("/api/v1/incidents/?search=print").json()["results"]] == [
        hit.number
    ]
    assert [i["number"] for i in api.get("/api/v1/incidents/?search=hdmi").json()["results"]] == [
        other.number
    ]
    assert [
        i["number"] for i in api.get(f"/api/v1/incidents/?search={hit.number}").json()["results"]
    ] == [hit.number]


def test_cursor_paging_walks_every_row_once_even_with_ties(db, api, alice):
    created = [make_incident(title=f"n{i}", impact=1 + i % 3, urgency=1) for i in range(13)]
    api.as_(alice)
    seen, link = [], "/api/v1/incidents/?ordering=priority&page_size=4"
    while link:
        body = api.get(link).json()
        seen += [i["number"] for i in body["results"]]
        link = body["next"]
    assert sorted(seen) == sorted(i.number for i in created)
    assert len(seen) == len(set(seen))
    priorities = [Incident.objects.get(number=n).priority for n in seen]
    assert priorities == sorted(priorities)


def test_the_list_query_count_does_not_grow_with_the_page(
    db, api, alice, django_assert_max_num_queries
):
    for i in range(3):
        make_incident(title=f"few {i}")
    api.as_(alice)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/incidents/").json()["results"]) == 3
    for i in range(30):
        incident = make_incident(title=f"many {i}")
        incident.watchers.add(alice)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/incidents/").json()["results"]) == 33


# --- Rating, parents, auto-close


def test_the_requester_rates_a_resolved_incident(db, api, rita, alice, eve):
    incident = make_incident(requester=rita)
    api.as_(rita)
    assert api.post(url(incident, "rating/"), {"score": 4}).status_code == 409
    services.resolve(incident, actor=alice, code="fixed", notes="ok")
    assert api.post(url(incident, "rating/"), {"score": 6}).status_code == 400
    body = api.post(url(incident, "rating/"), {"score": 4, "comment": "Fast"}).json()
    assert (body["csat_score"], body["csat_comment"]) == (4, "Fast")
    assert api.as_(alice).post(url(incident, "rating/"), {"score": 1}).status_code == 403


def test_resolving_a_parent_resolves_its_open_children(db, alice):
    parent = make_incident(title="Email down")
    children = [make_incident(title=f"No email {i}") for i in range(2)]
    closed_child = make_incident(title="Already canceled")
    for child in [*children, closed_child]:
        services.update_incident(child, {"parent": parent}, actor=alice)
    services.cancel(closed_child, actor=alice)  # linked first: a canceled one takes no edits
    services.resolve(parent, actor=alice, code="fixed", notes="Mail relay restarted")
    for child in children:
        child.refresh_from_db()
        assert child.state == "resolved"
        assert child.resolution_notes == "Mail relay restarted"
        assert child.comments.filter(internal=False).exists()
    closed_child.refresh_from_db()
    assert closed_child.state == "canceled"


def test_an_incident_cannot_be_its_own_ancestor(db, api, alice):
    a = make_incident()
    b = make_incident()
    services.update_incident(b, {"parent": a}, actor=alice)
    response = api.as_(alice).patch(url(a), {"parent": b.number}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()


def test_resolved_incidents_close_themselves_after_the_configured_days(db, alice, settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    stale = make_incident()
    services.resolve(stale, actor=alice, code="fixed", notes="ok")
    fresh = make_incident()
    services.resolve(fresh, actor=alice, code="fixed", notes="ok")
    Incident.objects.filter(pk=stale.pk).update(resolved_at=timezone.now() - timedelta(days=4))
    assert services.auto_close() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.state, fresh.state) == ("closed", "resolved")


def test_one_incident_that_fails_to_close_does_not_keep_the_others_resolved(
    db, alice, settings, monkeypatch
):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    stale = [make_incident() for _ in range(3)]
    for incident in stale:
        services.resolve(incident, actor=alice, code="fixed", notes="ok")
    Incident.objects.update(resolved_at=timezone.now() - timedelta(days=4))
    broken = stale[1].pk
    real = services._move

    def flaky(incident, to, **kwargs):
        if incident.pk == broken:
            raise RuntimeError("disk full")
        return real(incident, to, **kwargs)

    monkeypatch.setattr(services, "_move", flaky)
    assert services.auto_close(batch=2) == 2
    states = dict(Incident.objects.values_list("pk", "state"))
    assert states[broken] == "resolved"
    assert sorted(states.values()) == ["closed", "closed", "resolved"]


def test_the_auto_close_task_is_scheduled_and_runs(db, alice, settings):
    from django.conf import settings as live

    from incidents.tasks import auto_close_resolved

    schedule = {entry["task"] for entry in live.CELERY_BEAT_SCHEDULE.values()}
    assert "incidents.tasks.auto_close_resolved" in schedule
    incident = make_incident()
    services.resolve(incident, actor=alice, code="fixed", notes="ok")
    Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - timedelta(days=9))
    assert auto_close_resolved.delay().get() == 1


def test_a_new_incident_is_routed_to_the_first_line_team(db, api, rita, alice):
    body = api.as_(rita).post("/api/v1/incidents/", {"title": "Help"}, format="json").json()
    incident = Incident.objects.get(number=body["number"])
    assert incident.assignment_group_id == alice.teams.get().pk
    assert Notification.objects.filter(recipient=alice, kind="assigned").exists()


def test_the_callers_reply_puts_an_incident_awaiting_them_back_in_progress(db, rita, alice):
    incident = make_incident(requester=rita)
    services.hold(incident, actor=alice, reason="awaiting_caller")
    services.comment(incident, actor=rita, body="Here is the screenshot.")
    incident.refresh_from_db()
    assert (incident.state, incident.hold_reason) == ("in_progress", "")


def test_an_internal_note_does_not_touch_what_the_requester_sees(db, rita, alice):
    incident = make_incident(requester=rita)
    before = Incident.objects.get(pk=incident.pk).updated_at
    services.comment(incident, actor=alice, body="just us", internal=True)
    assert Incident.objects.get(pk=incident.pk).updated_at == before


def test_a_forged_cursor_is_a_404(db, api, client, alice):
    api.as_(alice)
    assert api.get("/api/v1/incidents/?cursor=garbage!!").status_code == 404
    client.force_login(alice)
    assert client.get("/desk/?cursor=Zm9v").status_code == 404


# --- A finished incident keeps its fields ------------------------------------------------------

EDITABLE_STATES = ["new", "in_progress", "on_hold", "resolved"]


def snapshot(incident) -> dict:
    row = Incident.objects.get(pk=incident.pk)
    return {f.attname: getattr(row, f.attname) for f in Incident._meta.concrete_fields}


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_a_finished_incident_refuses_field_edits_with_409_and_writes_nothing(
    db, api, alice, bob, state
):
    incident = incident_in(state, alice)
    before, events = snapshot(incident), incident.events.count()
    response = api.as_(alice).patch(
        url(incident),
        {"title": "Edited after the end", "urgency": 1, "assignee": bob.pk},
        format="json",
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["allowed"] == EDITABLE_STATES
    assert body["detail"] == f"{incident.number} is {state}: its fields can no longer change."
    assert snapshot(incident) == before
    assert incident.events.count() == events


def test_a_finished_incident_refuses_the_edit_in_the_verb_whoever_calls_it(db, alice):
    from itsm.workflow import Conflict

    incident = incident_in("closed", alice)
    before = snapshot(incident)
    with pytest.raises(Conflict) as refused:
        services.update_incident(incident, {"impact": 1}, actor=None)  # the system too
    assert refused.value.allowed == EDITABLE_STATES
    assert snapshot(incident) == before


REQUESTER_EDITABLE_STATES = ["new", "in_progress", "on_hold"]


def requesters_incident_in(state, requester, alice):
    incident = make_incident(requester=requester)
    for step in PATH[state]:
        services.change_state(incident, step, actor=alice, **REQUIRED.get(step, {}))
    return incident


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_a_requester_editing_their_finished_incident_gets_the_409_an_agent_gets(
    db, api, rita, alice, state
):
    """Not a 403: they may edit their own incident, only not in this state; the 409 names the
    states that take their edits."""
    incident = requesters_incident_in(state, rita, alice)
    before, events = snapshot(incident), incident.events.count()
    response = api.as_(rita).patch(url(incident), {"title": "Reworded late"}, format="json")

    assert response.status_code == 409, response.content
    assert response.json() == {
        "detail": f"{incident.number} is {state}: its fields can no longer change.",
        "allowed": REQUESTER_EDITABLE_STATES,
    }
    assert snapshot(incident) == before and incident.events.count() == events


def test_a_requester_editing_their_resolved_incident_is_told_to_reopen_it(db, api, rita, alice):
    incident = requesters_incident_in("resolved", rita, alice)
    before = snapshot(incident)
    response = api.as_(rita).patch(url(incident), {"title": "Reworded late"}, format="json")

    assert response.status_code == 409, response.content
    assert response.json() == {
        "detail": f"{incident.number} is resolved: reopen it to change its fields.",
        "allowed": REQUESTER_EDITABLE_STATES,
    }
    assert snapshot(incident) == before


def test_the_requesters_409_comes_from_the_verb(db, rita, alice):
    from itsm.workflow import Conflict

    incident = requesters_incident_in("closed", rita, alice)
    with pytest.raises(Conflict) as refused:
        services.update_incident(incident, {"title": "Reworded late"}, actor=rita)
    assert refused.value.allowed == REQUESTER_EDITABLE_STATES


def test_who_may_not_edit_a_finished_incident_still_gets_403_or_404(db, api, rita, eve, alice):
    """The 409 is for who could edit it in another state: a reader who never edits incidents
    gets 403, another end user 404 (they do not see it), a field not theirs 400."""
    from itsm.testing import make_persona

    incident = requesters_incident_in("closed", rita, alice)
    edit = {"title": "Reworded late"}
    assert (
        api.as_(make_persona("paula")).patch(url(incident), edit, format="json").status_code == 403
    )
    assert api.as_(eve).patch(url(incident), edit, format="json").status_code == 404
    response = api.as_(rita).patch(url(incident), {"impact": 1}, format="json")
    assert response.status_code == 400 and "impact" in response.json()


def test_a_resolved_incident_still_takes_edits_and_reopens_through_its_move(db, api, alice):
    incident = incident_in("resolved", alice)
    edited = api.as_(alice).patch(url(incident), {"title": "Reworded"}, format="json")
    assert edited.status_code == 200, edited.content
    reopened = api.as_(alice).post(
        url(incident, "transition/"), {"state": "in_progress"}, format="json"
    )
    assert reopened.status_code == 200, reopened.content
    assert Incident.objects.get(pk=incident.pk).state == "in_progress"
