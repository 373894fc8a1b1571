"""The life of a request (SPEC §8): ordering, approval per mode, rejection, fulfilment through
tasks, cancellation, and who hears of each step."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.services import update_user
from catalog import services
from catalog.formdef import AnswersInvalid
from catalog.models import Approval, Task
from itsm.models import Notification
from itsm.testing import make_persona
from itsm.workflow import Conflict, TransitionNotAllowed

from .conftest import make_item, order

pytestmark = pytest.mark.django_db


def states(request):
    return list(request.events.filter(field="state").values_list("new", flat=True))


def kinds_for(user):
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True)
    )


# --- Ordering ------------------------------------------------------------------------------------


def test_an_item_without_approval_is_approved_at_once_with_its_task_for_the_team(
    rita, headset, desk
):
    request = order(headset, by=rita, answers={})
    assert request.number.startswith("REQ") and len(request.number) == 10
    assert request.state == "approved"
    assert states(request) == ["approved"]
    assert request.events.filter(field="created").exists()
    (task,) = request.tasks.all()
    assert task.number.startswith("TASK") and len(task.number) == 11
    assert (task.title, task.state, task.assignment_group) == ("Headset", "open", desk)
    assert not request.approvals.exists()


def test_ordering_keeps_the_answers_the_form_and_the_approval_mode_of_that_day(
    managed_rita, laptop
):
    request = order(laptop, by=managed_rita, answers={"model": "power", "needed_by": "2027-01-04"})
    services.save_item(laptop, {"form": [], "approval": "none"}, actor=None)
    request.refresh_from_db()
    assert request.answers == {"model": "power", "needed_by": "2027-01-04"}
    assert [f["name"] for f in request.form][:2] == ["model", "needed_by"]
    assert request.approval == "manager"
    assert request.title == "Laptop"
    assert request.requested_for == managed_rita


def test_answers_that_do_not_satisfy_the_form_order_nothing(managed_rita, laptop):
    with pytest.raises(AnswersInvalid) as caught:
        order(laptop, by=managed_rita, answers={"model": "gold", "quantity": 9})
    assert caught.value.fields == {
        "model": ["Choose one of: standard, power."],
        "needed_by": ["This field is required."],
        "quantity": ["Enter a number of at most 5."],
    }
    assert not laptop.requests.exists()


def test_an_inactive_item_cannot_be_ordered(rita, headset):
    services.save_item(headset, {"active": False}, actor=None)
    with pytest.raises(ValidationError) as caught:
        order(headset, by=rita, answers={})
    assert caught.value.message_dict == {"item": ["This item can no longer be ordered."]}


def test_a_line_manager_orders_for_their_reports_but_an_end_user_not_for_a_stranger(
    managed_rita, max_, eve, headset
):
    for_rita = order(headset, by=max_, answers={}, requested_for=managed_rita)
    assert (for_rita.requester, for_rita.requested_for) == (max_, managed_rita)
    with pytest.raises(ValidationError) as caught:
        order(headset, by=managed_rita, answers={}, requested_for=eve)
    assert "requested_for" in caught.value.message_dict


def test_agents_order_for_anyone(alice, eve, headset):
    assert order(headset, by=alice, answers={}, requested_for=eve).requested_for == eve


# --- Approval: the manager -----------------------------------------------------------------------


def test_manager_mode_asks_the_manager_of_the_person_it_is_for(managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    assert request.state == "awaiting_approval"
    (approval,) = request.approvals.all()
    assert (approval.approver, approval.team, approval.state) == (max_, None, "pending")
    assert kinds_for(max_) == ["approval_requested"]
    assert not request.tasks.exists()


def test_the_managers_approval_creates_the_tasks(managed_rita, max_, laptop, desk):
    request = order(laptop, by=managed_rita)
    approval = services.approve(request, actor=max_, comment="Enjoy.")
    request.refresh_from_db()
    assert request.state == "approved" and request.approved_at is not None
    assert (approval.state, approval.decided_by, approval.comment) == ("approved", max_, "Enjoy.")
    assert states(request) == ["awaiting_approval", "approved"]
    assert [t.assignment_group for t in request.tasks.all()] == [desk]


def test_a_person_without_a_manager_is_approved_by_the_approval_team(rita, carol, desk, approvers):
    item = make_item("Monitor", approval="manager", approval_team=approvers, form=[])
    request = order(item, by=rita, answers={})
    (approval,) = request.approvals.all()
    assert (approval.approver, approval.team) == (None, approvers)
    services.approve(request, actor=carol)
    request.refresh_from_db()
    assert request.state == "approved"


def test_with_neither_a_manager_nor_a_team_any_manager_approves(rita, max_, alice, desk):
    item = make_item("Monitor", approval="manager", form=[])
    request = order(item, by=rita, answers={})
    (approval,) = request.approvals.all()
    assert (approval.approver, approval.team) == (None, None)
    assert "approval_requested" in kinds_for(max_)
    with pytest.raises(PermissionDenied):
        services.approve(request, actor=alice)  # an agent is not a manager
    services.approve(request, actor=max_)
    request.refresh_from_db()
    assert request.state == "approved"


# --- Approval: the team --------------------------------------------------------------------------


def test_team_mode_is_settled_by_the_first_member_who_answers(rita, carol, licence):
    paula = make_persona("paula")
    request = order(licence, by=rita, answers={"software": "Visio"})
    (approval,) = request.approvals.all()
    assert approval.team == licence.approval_team
    assert "approval_requested" in kinds_for(carol) and "approval_requested" in kinds_for(paula)
    services.approve(request, actor=paula, comment="")
    request.refresh_from_db()
    assert request.state == "approved"
    with pytest.raises(Conflict):  # too late: it was decided
        services.approve(request, actor=carol)


def test_nobody_approves_their_own_request_the_other_members_do(carol, licence):
    paula = make_persona("paula")
    request = order(licence, by=carol, answers={"software": "Visio"})
    assert "approval_requested" not in kinds_for(carol)
    with pytest.raises(PermissionDenied) as caught:
        services.approve(request, actor=carol)
    assert "own request" in str(caught.value)
    services.approve(request, actor=paula)
    request.refresh_from_db()
    assert request.state == "approved"


def test_a_manager_ordering_for_their_report_does_not_approve_it_themself(
    managed_rita, max_, laptop
):
    request = order(laptop, by=max_, requested_for=managed_rita)
    (approval,) = request.approvals.all()
    assert approval.approver is None  # not max: the managers (any other) decide
    with pytest.raises(PermissionDenied):
        services.approve(request, actor=max_)


def test_someone_who_is_not_an_approver_may_not_decide(managed_rita, eve, alice, laptop):
    request = order(laptop, by=managed_rita)
    for person in (eve, alice, managed_rita):
        with pytest.raises(PermissionDenied):
            services.approve(request, actor=person)
    assert Approval.objects.get(request=request).state == "pending"


def test_an_approval_named_by_a_link_is_answered_once(managed_rita, max_, laptop):
    """What a signed single-use email link will call: the approval it names, once."""
    request = order(laptop, by=managed_rita)
    approval = request.approvals.get()
    services.decide(request, actor=max_, decision="approve", approval=approval)
    with pytest.raises(Conflict):
        services.decide(request, actor=max_, decision="reject", comment="No.", approval=approval)
    approval.refresh_from_db()
    assert approval.state == "approved"


# --- Rejection -----------------------------------------------------------------------------------


def test_a_rejection_ends_the_request_with_its_reason_and_no_task(managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    services.reject(request, actor=max_, comment="Your laptop is only a year old.")
    request.refresh_from_db()
    assert request.state == "rejected" and request.closed_at is not None
    assert request.approvals.get().comment == "Your laptop is only a year old."
    assert not request.tasks.exists()
    message = Notification.objects.filter(recipient=managed_rita).latest("id").message
    assert "only a year old" in message
    with pytest.raises(TransitionNotAllowed):
        services.cancel(request, actor=managed_rita)


def test_a_rejection_must_say_why(managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    with pytest.raises(ValidationError) as caught:
        services.reject(request, actor=max_, comment="  ")
    assert "comment" in caught.value.message_dict
    request.refresh_from_db()
    assert request.state == "awaiting_approval"


def test_a_decision_is_approve_or_reject(managed_rita, max_, laptop):
    request = order(laptop, by=managed_rita)
    with pytest.raises(ValidationError) as caught:
        services.decide(request, actor=max_, decision="maybe")
    assert "decision" in caught.value.message_dict


# --- Fulfilment ----------------------------------------------------------------------------------


def approved_onboarding(onboarding, rita, max_):
    update_user(rita, {"manager": max_}, actor=None)
    rita.refresh_from_db()
    request = order(onboarding, by=rita, answers={"who": "Jules"})
    services.approve(request, actor=max_)
    request.refresh_from_db()
    return request


def test_onboarding_creates_one_task_per_step_for_each_team(rita, max_, onboarding, desk, bob):
    request = approved_onboarding(onboarding, rita, max_)
    tasks = list(request.tasks.order_by("position"))
    assert [t.title for t in tasks] == [
        "Create the accounts",
        "Prepare the laptop",
        "Grant VPN access",
    ]
    assert [t.assignment_group.name for t in tasks] == ["Service Desk", "Service Desk", "Network"]
    assert tasks[1].description == "Image it."
    assert "assigned" in kinds_for(bob)  # the Network team hears of its task


def test_the_first_task_worked_puts_the_request_in_fulfilment(rita, max_, alice, onboarding):
    request = approved_onboarding(onboarding, rita, max_)
    first = request.tasks.order_by("position").first()
    services.take_task(first, actor=alice)
    first.refresh_from_db()
    request.refresh_from_db()
    assert (first.state, first.assignee) == ("in_progress", alice)
    assert request.state == "in_fulfillment"


def test_the_request_is_fulfilled_when_every_task_is_done(rita, max_, alice, bob, onboarding):
    request = approved_onboarding(onboarding, rita, max_)
    first, second, third = request.tasks.order_by("position")
    services.complete_task(first, actor=alice, note="Accounts created.")
    services.complete_task(second, actor=alice)
    request.refresh_from_db()
    assert request.state == "in_fulfillment"
    services.complete_task(third, actor=bob)
    request.refresh_from_db()
    assert request.state == "fulfilled" and request.fulfilled_at is not None
    assert states(request)[-2:] == ["in_fulfillment", "fulfilled"]
    assert first.comments.get().internal  # the note stays with the desk
    fulfilled = Notification.objects.filter(recipient=rita, ticket=request.number).latest("id")
    assert "fulfilled" in fulfilled.message


def test_a_canceled_task_does_not_hold_the_request_back(rita, max_, alice, onboarding):
    request = approved_onboarding(onboarding, rita, max_)
    first, second, third = request.tasks.order_by("position")
    services.change_task_state(third, "canceled", actor=alice)
    services.complete_task(first, actor=alice)
    services.complete_task(second, actor=alice)
    request.refresh_from_db()
    assert request.state == "fulfilled"


def test_canceling_every_task_does_not_fulfil_the_request(rita, alice, headset):
    request = order(headset, by=rita, answers={})
    services.change_task_state(request.tasks.get(), "canceled", actor=alice)
    request.refresh_from_db()
    assert request.state == "approved"


def test_agents_add_a_task_to_an_approved_request_and_it_waits_for_it(rita, alice, bob, headset):
    request = order(headset, by=rita, answers={})
    extra = services.add_task(
        actor=alice, request=request, title="Pair it", assignment_group=bob.teams.get()
    )
    assert (extra.position, extra.requester) == (2, rita)
    services.complete_task(request.tasks.get(position=1), actor=alice)
    request.refresh_from_db()
    assert request.state == "in_fulfillment"
    services.complete_task(extra, actor=bob)
    request.refresh_from_db()
    assert request.state == "fulfilled"


def test_no_task_is_added_to_a_request_awaiting_approval(managed_rita, alice, laptop):
    request = order(laptop, by=managed_rita)
    with pytest.raises(Conflict):
        services.add_task(actor=alice, request=request, title="Early")


def test_only_agents_and_managers_work_tasks(rita, headset):
    request = order(headset, by=rita, answers={})
    task = request.tasks.get()
    for person in (rita, make_persona("paula")):
        with pytest.raises(PermissionDenied):
            services.change_task_state(task, "done", actor=person)


# --- Cancellation --------------------------------------------------------------------------------


def test_canceling_stops_pending_approvals(managed_rita, laptop):
    request = order(laptop, by=managed_rita)
    services.cancel(request, actor=managed_rita, reason="Got one from a colleague.")
    request.refresh_from_db()
    assert request.state == "canceled"
    assert request.approvals.get().state == "canceled"
    assert request.comments.get().body == "Got one from a colleague."


def test_an_agent_cancels_a_request_in_fulfilment_and_its_open_tasks(rita, max_, alice, onboarding):
    request = approved_onboarding(onboarding, rita, max_)
    first = request.tasks.order_by("position").first()
    services.complete_task(first, actor=alice)
    services.cancel(request, actor=alice)
    assert sorted(Task.objects.filter(request=request).values_list("state", flat=True)) == [
        "canceled",
        "canceled",
        "done",
    ]


def test_the_requester_cancels_only_before_fulfilment_starts(rita, alice, headset):
    request = order(headset, by=rita, answers={})
    services.take_task(request.tasks.get(), actor=alice)
    request.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.cancel(request, actor=rita)


def test_approval_and_fulfilment_are_never_moves_by_hand(managed_rita, max_, alice, laptop):
    request = order(laptop, by=managed_rita)
    for person, to in ((max_, "approved"), (alice, "rejected"), (managed_rita, "approved")):
        with pytest.raises(PermissionDenied):
            services.change_state(request, to, actor=person)


# --- Who hears of it -----------------------------------------------------------------------------


def test_the_requester_hears_of_every_step(managed_rita, max_, alice, laptop):
    request = order(laptop, by=managed_rita)
    services.approve(request, actor=max_)
    task = request.tasks.get()
    services.take_task(task, actor=alice)
    services.complete_task(task, actor=alice)
    messages = list(
        Notification.objects.filter(recipient=managed_rita, ticket=request.number)
        .order_by("id")
        .values_list("kind", "subject")
    )
    assert [kind for kind, _subject in messages] == ["created", "state", "state", "state"]
    assert "received" in messages[0][1]
    assert [subject.split(" is now ")[-1] for _k, subject in messages[1:]] == [
        "Approved",
        "In fulfilment",
        "Fulfilled",
    ]


def test_the_person_it_is_for_hears_of_it_too(managed_rita, alice, headset):
    request = order(headset, by=alice, answers={}, requested_for=managed_rita)
    assert kinds_for(managed_rita) == ["created"]
    assert Notification.objects.filter(recipient=alice, ticket=request.number).exists()
