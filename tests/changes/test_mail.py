"""CAB votes by email: each member's request mail carries approve and reject links to their
own approval; following one (and confirming) votes through the change's verb."""

import re

from django.core import mail
from django.test import Client

from changes.models import Approval
from changes.workflow import State

from .builders import submitted


def links_of(message) -> dict[str, str]:
    from itsm import approvals

    found = re.findall(r"http://[^\s\"]+/approvals/[^\s\"/]+/", message.body)
    return {approvals.read(url.rstrip("/").rsplit("/", 1)[1]).decision: url for url in found}


def path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_cab_member_votes_from_the_link_in_their_email(
    db, chris, members, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change = submitted(actor=chris)
    mails = {m.to[0]: m for m in mail.outbox if change.number in m.subject}
    carol = members[0]
    links = links_of(mails[carol.email])
    assert set(links) == {"approve", "reject"}
    answer = Client().post(path(links["approve"]), {"comment": "Looks safe"})
    assert answer.status_code == 200
    vote = Approval.objects.get(change=change, approver=carol)
    assert (vote.decision, vote.decided_by) == ("approved", carol)
    change.refresh_from_db()
    assert change.state == State.AUTHORIZE  # policy "all": two more votes to go


def test_a_rejection_by_email_needs_a_reason_and_sends_the_change_back(
    db, chris, members, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change = submitted(actor=chris)
    dina = members[1]
    reject = path(links_of(next(m for m in mail.outbox if m.to == [dina.email]))["reject"])
    asked_again = Client().post(reject, {"comment": ""})
    assert Approval.objects.get(change=change, approver=dina).decision == "pending"
    assert asked_again.status_code in (200, 400)
    Client().post(reject, {"comment": "No backout tested"})
    change.refresh_from_db()
    assert change.state == State.NEW
