"""What change managers keep from the pages: templates, blackout windows, the boards and
their members; and what the change page lets each person do."""

from datetime import timedelta

from django.urls import reverse

from changes import services
from changes.models import Blackout, Board, ChangeTemplate
from itsm.testing import make_persona, make_team

from .builders import PLANS, make_cab, make_change, make_ci, submitted, window


def local(moment):
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_a_change_manager_keeps_a_template_from_the_pages(db, client, chris):
    web = make_ci("web-01")
    client.force_login(chris)
    response = client.post(
        reverse("changes:template_add"),
        {
            "name": "Rotate logs",
            "duration_minutes": 10,
            "cis": [str(web.pk)],
            "active": "on",
            **PLANS,
        },
    )
    assert response.status_code == 302
    template = ChangeTemplate.objects.get(name="Rotate logs")
    assert list(template.cis.all()) == [web]
    new = client.get(reverse("changes:change_add"), {"template": template.pk}).content.decode()
    assert "New standard change: Rotate logs" in new
    assert "web-01" in new


def test_a_blackout_from_the_page_marks_the_changes_in_it(db, client, chris):
    change = make_change(actor=chris)
    client.force_login(chris)
    response = client.post(
        reverse("changes:blackout_add"),
        {
            "name": "Audit",
            "start": local(change.planned_start - timedelta(hours=1)),
            "end": local(change.planned_end + timedelta(hours=1)),
        },
    )
    assert response.status_code == 302
    assert change.conflicts.get().blackout == Blackout.objects.get(name="Audit")
    page = client.get(reverse("changes:blackout_list")).content.decode()
    assert "Audit" in page


def test_a_blackout_ending_before_it_starts_is_refused_on_the_page(db, client, chris):
    start, end = window()
    client.force_login(chris)
    response = client.post(
        reverse("changes:blackout_add"),
        {"name": "Backwards", "start": local(end), "end": local(start)},
    )
    assert response.status_code == 200
    assert "The end comes after the start." in response.content.decode()
    assert not Blackout.objects.exists()


def test_a_change_manager_names_the_members_of_a_board(db, client, chris):
    cab = make_cab(members=[make_persona("carol")])
    board = Board.objects.get(team=cab)
    paula, rita = make_persona("paula"), make_persona("rita")
    client.force_login(chris)
    client.post(reverse("changes:board_member_add", args=[board.pk]), {"member": "paula"})
    refused = client.post(
        reverse("changes:board_member_add", args=[board.pk]), {"member": "rita"}, follow=True
    )
    assert "may not read changes" in refused.content.decode()
    assert set(cab.members.all()) == {make_persona("carol"), paula}
    assert rita not in cab.members.all()
    client.post(reverse("changes:board_member_remove", args=[board.pk, paula.pk]))
    assert set(cab.members.all()) == {make_persona("carol")}


def test_a_team_becomes_a_board_with_its_policy(db, client, chris):
    network = make_team("Network")
    client.force_login(chris)
    client.post(reverse("changes:board_add"), {"team": network.pk, "policy": "majority"})
    assert Board.objects.get(team=network).policy == "majority"
    change = make_change(actor=chris, cab=network)
    assert change.approval_policy == "majority"


def test_the_plan_of_a_change_before_the_cab_cannot_be_edited_from_the_page(db, client, chris):
    change = submitted(actor=chris)
    client.force_login(make_persona("alice"))
    page = client.get(change.get_absolute_url()).content.decode()
    assert 'name="backout_plan"' not in page  # frozen: not offered
    assert 'name="title"' in page


def test_closing_a_change_from_the_page_records_the_outcome(db, client, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    services.vote(change, actor=members[0], decision="approve")
    client.force_login(chris)
    url = reverse("changes:change_state", args=[change.number])
    client.post(url, {"state": "implement"})
    client.post(url, {"state": "review", "outcome": "backed_out", "review_notes": "Rolled back."})
    client.post(url, {"state": "closed"})
    change.refresh_from_db()
    assert (change.state, change.outcome, change.review_notes) == (
        "closed",
        "backed_out",
        "Rolled back.",
    )


def test_the_success_rate_page_draws_the_months_for_managers(db, client, max_):
    client.force_login(max_)
    page = client.get(reverse("changes:success_rate")).content.decode()
    assert 'id="success-chart"' in page
    assert 'id="success-data"' in page
    client.force_login(make_persona("carol"))
    assert client.get(reverse("changes:success_rate")).status_code == 403


def test_any_change_manager_answers_an_emergency_change_through_the_api(db, api, chris, members):
    other_manager = make_persona("ada")  # admins hold every role
    change = make_change(actor=chris, type="emergency")
    services.change_state(change, "authorize", actor=chris)
    listed = api.as_(members[0]).get(f"/api/v1/changes/{change.number}/approvals/").json()
    assert [(a["approver"], a["ecab"]) for a in listed] == [(None, True)]
    refused = api.post(
        f"/api/v1/changes/{change.number}/approvals/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code == 403
    response = api.as_(other_manager).post(
        f"/api/v1/changes/{change.number}/approvals/", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["decided_by"], response.json()["change_state"]) == (
        other_manager.pk,
        "scheduled",
    )
