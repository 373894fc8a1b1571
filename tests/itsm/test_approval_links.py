"""Approvals by email: signed, expiring, single-use links. A GET only shows what will happen
(mail scanners open links); a POST decides, once, as the approver the link was sent to,
through the verb the approval's app registered. A link used, expired, forged or whose
approver lost the right answers a clear page and changes nothing.

The approval here is a stand-in: an incident, "approved" by a registered fake verb that
comments on it through the incident's own verb (the change and catalog apps register
theirs the same way)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents import services
from itsm import approvals, notify
from itsm.extensions import _approval_actions, approval_action
from itsm.models import ApprovalLinkUse, Notification
from itsm.permissions import AGENT, has_role
from itsm.testing import make_incident
from itsm.workflow import Conflict


def decisions(incident):
    return list(
        incident.comments.filter(body__startswith="Decision:").values_list("body", flat=True)
    )


@pytest.fixture
def registered():
    """A fake approval verb for incidents: agents decide, once; a rejection needs a reason."""

    def can_decide(incident, user):
        return has_role(user, AGENT)

    def decide(incident, *, actor, decision, comment):
        if not can_decide(incident, actor):
            raise PermissionDenied
        if decisions(incident):
            raise Conflict("already decided")
        if decision == "reject" and not comment:
            raise ValidationError({"comment": ["Say why you reject it."]})
        services.comment(incident, actor=actor, body=f"Decision: {decision}. {comment}".strip())

    approval_action(
        "incidents.Incident", can_decide=can_decide, describe=lambda i: f"{i.number} {i.title}"
    )(decide)
    yield
    _approval_actions.pop("incidents.incident", None)


@pytest.fixture
def request_mail(db, rita, alice, registered, django_capture_on_commit_callbacks):
    """An approval request mailed to alice; returns (incident, approve url, reject url)."""
    incident = make_incident(requester=rita)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(
            [alice],
            kind=Notification.Kind.APPROVAL_REQUESTED,
            ticket=incident,
            subject="Approval requested for %(number)s",
            message="Please approve %(title)s.",
            approval=incident,
        )
    [message] = mail.outbox
    links = re.findall(r"http://[^\s\"]+/approvals/[^\s\"/]+/", message.body)
    approve = next(link for link in links if approvals.read(path_token(link)).decision == "approve")
    reject = next(link for link in links if approvals.read(path_token(link)).decision == "reject")
    assert approve in message.alternatives[0][0] and reject in message.alternatives[0][0]
    return incident, path(approve), path(reject)


def path_token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_opening_the_link_only_asks_to_confirm(request_mail, alice):
    incident, approve, _reject = request_mail
    client = Client()
    for _ in range(3):  # a mail scanner, a preview, the person
        page = client.get(approve)
        assert page.status_code == 200
        assert "Confirm the approval" in page.content.decode()
        assert incident.number in page.content.decode()
    assert decisions(incident) == []
    assert not ApprovalLinkUse.objects.exists()


def test_confirming_decides_once_as_the_approver(request_mail, alice):
    incident, approve, reject = request_mail
    client = Client()
    page = client.post(approve, {"comment": "Fine by me"})
    assert page.status_code == 200
    assert "Approval recorded" in page.content.decode()
    assert decisions(incident) == ["Decision: approve. Fine by me"]
    assert incident.comments.get(body__startswith="Decision").author == alice
    for link in (approve, reject):  # both links of this approval are spent
        again = client.post(link, {"comment": "again"})
        assert again.status_code == 410
        assert "already used" in again.content.decode()
        assert client.get(link).status_code == 410
    assert decisions(incident) == ["Decision: approve. Fine by me"]


def test_a_rejection_without_a_reason_is_asked_again_and_the_link_stays_usable(request_mail):
    incident, _approve, reject = request_mail
    client = Client()
    page = client.post(reject, {"comment": ""})
    assert page.status_code == 400
    assert "Say why you reject it." in page.content.decode()
    assert not ApprovalLinkUse.objects.exists()
    assert client.post(reject, {"comment": "Too risky"}).status_code == 200
    assert decisions(incident) == ["Decision: reject. Too risky"]


def test_an_expired_link_changes_nothing(request_mail, settings):
    incident, approve, _reject = request_mail
    later = timezone.now() + timedelta(seconds=settings.APPROVAL_LINK_MAX_AGE + 60)
    with time_machine.travel(later):
        page = Client().post(approve, {"comment": "late"})
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert decisions(incident) == []


def test_an_approver_who_lost_the_role_is_told_and_nothing_changes(request_mail, alice):
    from accounts.services import update_user

    incident, approve, _reject = request_mail
    update_user(alice, {}, actor=None, roles=[])
    client = Client()
    assert client.get(approve).status_code == 403
    page = client.post(approve, {"comment": "ok"})
    assert page.status_code == 403
    assert "can no longer decide" in page.content.decode()
    assert decisions(incident) == []
    assert not ApprovalLinkUse.objects.exists()


def test_a_decision_taken_elsewhere_first_makes_the_link_say_so(request_mail, bob):
    incident, approve, _reject = request_mail
    services.comment(incident, actor=bob, body="Decision: approve. Done in the desk")
    page = Client().post(approve, {"comment": "ok"})
    assert page.status_code == 409
    assert "already decided" in page.content.decode()
    assert not ApprovalLinkUse.objects.exists()


def test_a_tampered_or_foreign_link_is_not_valid(request_mail, bob):
    incident, approve, _reject = request_mail
    token = path_token(approve)
    assert Client().get(approve[:-6] + "xyz12/").status_code == 404
    # a link made for someone else cannot be turned into one's own
    forged = approvals.make_token(f"incidents.incident:{incident.pk}", bob, "approve")
    assert forged != token
    assert Client().get(reverse("approvals:link", args=[forged[:-4] + "AAAA"])).status_code == 404


def test_the_form_is_protected_against_cross_site_posts(request_mail):
    _incident, approve, _reject = request_mail
    client = Client(enforce_csrf_checks=True)
    assert client.post(approve, {"comment": "x"}).status_code == 403
    page = client.get(approve)
    token = page.cookies["csrftoken"].value
    assert client.post(approve, {"comment": "x", "csrfmiddlewaretoken": token}).status_code == 200


def test_someone_signed_in_as_another_person_is_warned_whose_decision_it_records(request_mail, bob):
    _incident, approve, _reject = request_mail
    client = Client()
    client.force_login(bob)
    assert "You are signed in as someone else" in client.get(approve).content.decode()


def test_an_approval_of_an_unregistered_kind_gets_no_links(db, rita, alice):
    incident = make_incident(requester=rita)
    row = notify.notify(
        [alice],
        kind="approval_requested",
        ticket=incident,
        subject="s",
        message="m",
        approval=incident,
    )[0]
    assert row.approval == f"incidents.incident:{incident.pk}"
    mail.outbox.clear()
    notify.deliver([row.pk])
    [message] = mail.outbox
    assert "/approvals/" not in message.body


def test_each_approver_gets_links_for_their_own_approval(db, rita, alice, bob, registered):
    first, second = make_incident(requester=rita), make_incident(requester=rita)
    rows = notify.notify(
        [alice, bob],
        kind="approval_requested",
        ticket=first,
        subject="s",
        message="m",
        approval={alice: first, bob.pk: second},
    )
    assert {row.recipient.username: row.approval for row in rows} == {
        "alice": f"incidents.incident:{first.pk}",
        "bob": f"incidents.incident:{second.pk}",
    }
