"""The change pages: who lands where, voting in one step, the calendar and the CAB agenda in
constant queries, the change page's explanations."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from changes import services
from changes.models import Approval
from changes.views.calendar import success_by_month
from itsm.testing import make_persona

from .builders import depends, make_cab, make_change, make_ci, submitted, window


def test_a_cab_member_lands_on_my_approvals_with_the_count_in_the_navigation(
    db, client, chris, members
):
    submitted(actor=chris)
    client.force_login(members[0])
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == "/changes/"
    assert b"My approvals" in home.content
    nav = next(item for item in home.context["nav_items"] if item["url"] == "/changes/")
    assert nav["badge"] == 1


def test_a_change_manager_lands_on_the_cab_agenda(db, client, chris, members):
    change = submitted(actor=chris)
    client.force_login(chris)
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == "/changes/"
    assert home.templates[0].name == "changes/cab_agenda.html"
    assert change.number in home.content.decode()
    assert reverse("changes:change_calendar") in home.content.decode()


def test_an_agent_lands_on_the_desk_and_reaches_changes_in_the_navigation(db, client, alice):
    client.force_login(alice)
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == reverse("incidents:incident_list")
    assert any(item["url"] == "/changes/" for item in home.context["nav_items"])


def test_approving_from_my_approvals_in_one_step(db, client, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    approval = Approval.objects.get(change=change, approver=members[0])
    client.force_login(members[0])
    response = client.post(
        reverse("changes:approval_vote", args=[approval.pk]),
        {"decision": "approve", "comment": "Looks good."},
        follow=True,
    )
    assert response.status_code == 200
    change.refresh_from_db()
    assert change.state == "scheduled"
    assert "it is scheduled" in response.content.decode()


def test_rejecting_without_a_comment_is_refused_on_the_page(db, client, chris, members):
    change = submitted(actor=chris)
    approval = Approval.objects.get(change=change, approver=members[0])
    client.force_login(members[0])
    response = client.post(
        reverse("changes:approval_vote", args=[approval.pk]), {"decision": "reject"}, follow=True
    )
    assert "Say why you reject the change." in response.content.decode()
    change.refresh_from_db()
    assert change.state == "authorize"


def test_nobody_votes_on_an_approval_of_someone_else(db, client, chris, members):
    change = submitted(actor=chris)
    others = Approval.objects.get(change=change, approver=members[1])
    client.force_login(members[0])
    response = client.post(
        reverse("changes:approval_vote", args=[others.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404
    others.refresh_from_db()
    assert others.decision == "pending"


def test_the_rejected_change_page_shows_the_comment(db, client, chris, members):
    change = submitted(actor=chris)
    services.vote(change, actor=members[1], decision="reject", comment="Test plan too thin.")
    client.force_login(chris)
    page = client.get(change.get_absolute_url()).content.decode()
    assert "Rejected by Dina Durand" in page
    assert "Test plan too thin." in page


def test_the_change_page_explains_the_risk_and_lists_services_and_conflicts(db, client, chris):
    server = make_ci("srv-pay-01")
    payments = make_ci("Payments", "business_service", criticality=1)
    depends(payments, server)
    first = make_change(actor=chris, cis=[server], risk_answers={"outage": "full"})
    second = make_change(actor=chris, cis=[server])
    client.force_login(chris)
    page = client.get(first.get_absolute_url()).content.decode()
    assert "Impacts the business service “Payments”" in page
    assert "Full outage" in page
    assert second.number in page


@pytest.mark.parametrize("count", [2, 20])
def test_the_calendar_answers_in_constant_queries(
    db, client, chris, members, django_assert_max_num_queries, count
):
    server = make_ci("srv-cal-01")
    cab = make_cab()
    for day in range(count):
        start, end = window(days=1 + day % 20)
        submitted(actor=chris, cab=cab, cis=[server], planned_start=start, planned_end=end)
    services.save_blackout(
        None,
        {
            "name": "Freeze",
            "start": timezone.now(),
            "end": timezone.now() + timedelta(days=2),
            "cis": [server],
        },
        actor=chris,
    )
    client.force_login(chris)
    for view in ("month", "week"):
        with django_assert_max_num_queries(12):
            response = client.get(reverse("changes:change_calendar"), {"view": view})
        assert response.status_code == 200


def test_the_calendar_shows_scheduled_changes_coloured_by_risk_and_blackouts(
    db, client, chris, members
):
    change = submitted(actor=chris, approval_policy="any", title="Swap the core router")
    services.vote(change, actor=members[0], decision="approve")
    services.save_blackout(
        None,
        {
            "name": "Inventory freeze",
            "start": change.planned_end + timedelta(days=1),
            "end": change.planned_end + timedelta(days=2),
        },
        actor=chris,
    )
    client.force_login(members[0])
    page = client.get(
        reverse("changes:change_calendar"),
        {"view": "week", "date": change.planned_start.date().isoformat()},
    ).content.decode()
    assert f"cal-chip risk-{change.risk} state-scheduled" in page
    assert "Swap the core router" in page


@pytest.mark.parametrize("count", [2, 20])
def test_the_cab_agenda_and_my_approvals_answer_in_constant_queries(
    db, client, chris, members, django_assert_max_num_queries, count
):
    cab = make_cab()
    server = make_ci("srv-agenda-01")
    for _ in range(count):
        submitted(actor=chris, cab=cab, cis=[server])
    client.force_login(chris)
    with django_assert_max_num_queries(14):
        agenda = client.get(reverse("changes:cab_agenda"))
    assert agenda.content.decode().count("risk-row-") == count
    client.force_login(members[0])
    with django_assert_max_num_queries(14):
        mine = client.get(reverse("changes:my_approvals"))
    assert mine.content.decode().count('class="vote-form"') == count


def test_the_change_list_answers_in_constant_queries(
    db, client, chris, django_assert_max_num_queries
):
    server = make_ci("srv-many-01")
    for _ in range(25):
        make_change(actor=chris, cis=[server])
    client.force_login(chris)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("changes:change_list"), {"queue": "all"})
    assert response.content.decode().count('class="fw-semibold" href="/changes/CHG') == 25


def test_the_success_rate_counts_closed_changes_by_month(db, chris, members):
    for outcome in ("successful", "failed", "successful_with_issues"):
        change = submitted(actor=chris, approval_policy="any")
        services.vote(change, actor=members[0], decision="approve")
        services.change_state(change, "implement", actor=chris)
        services.change_state(change, "review", actor=chris, outcome=outcome)
        services.change_state(change, "closed", actor=chris)
    this_month = success_by_month()[-1]
    assert this_month["total"] == 3
    assert this_month["outcomes"]["failed"] == 1
    assert this_month["rate"] == pytest.approx(2 / 3)


def test_a_new_change_from_the_page(db, client, chris, cab):
    server = make_ci("srv-form-01")
    start, end = window()
    client.force_login(chris)
    response = client.post(
        reverse("changes:change_add"),
        {
            "type": "normal",
            "title": "Resize the data volume",
            "cab": cab.pk,
            "cis": [str(server.pk)],
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": end.strftime("%Y-%m-%dT%H:%M"),
            "implementation_plan": "lvextend",
            "backout_plan": "restore",
            "test_plan": "df -h",
            "risk_tested": "yes",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = chris.changes_change_requested.get()
    assert list(change.cis.all()) == [server]
    assert change.risk_answers == {"tested": "yes"}
    assert change.cab == cab


def test_end_users_get_403_on_every_page_of_the_area(db, client):
    client.force_login(make_persona("rita"))
    for name in ("changes:home", "changes:change_calendar", "changes:my_approvals"):
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("comments", [1, 15])
def test_the_change_page_reads_in_bounded_queries_whatever_its_history(
    db, client, chris, members, django_assert_max_num_queries, comments
):
    change = submitted(actor=chris)
    for n in range(comments):
        services.comment(change, actor=members[n % 3], body=f"Question {n}?")
    services.vote(change, actor=members[0], decision="reject", comment="Not this week.")
    client.force_login(chris)
    with django_assert_max_num_queries(30):
        response = client.get(change.get_absolute_url())
    assert response.content.decode().count("Question ") == comments


def test_a_file_over_the_limit_is_a_413_naming_the_field(db, client, chris, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_BYTES = 10
    change = make_change(actor=chris)
    client.force_login(chris)
    response = client.post(
        reverse("changes:change_attach", args=[change.number]),
        {"file": SimpleUploadedFile("plan.pdf", b"x" * 11)},
    )
    assert response.status_code == 413
    html = response.content.decode()
    assert "File: plan.pdf is too large (11\xa0bytes): each file can be up to 10\xa0bytes." in html
    assert 'id="attach-file" name="file"' in html
    assert not change.attachments.exists()
