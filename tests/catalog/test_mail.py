"""Request approvals by email: the approver's mail carries approve and reject links that
decide through the request's verb."""

import re

from django.core import mail
from django.test import Client

from .conftest import order


def links_of(message) -> dict[str, str]:
    from itsm import approvals

    found = re.findall(r"http://[^\s\"]+/approvals/[^\s\"/]+/", message.body)
    return {approvals.read(url.rstrip("/").rsplit("/", 1)[1]).decision: url for url in found}


def test_a_manager_approves_an_order_from_their_email(
    db, laptop, managed_rita, max_, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = order(laptop, by=managed_rita)
    [asked] = [m for m in mail.outbox if m.to == [max_.email] and request.number in m.subject]
    approve = links_of(asked)["approve"]
    with django_capture_on_commit_callbacks(execute=True):
        answer = Client().post("/" + approve.split("/", 3)[3], {"comment": "ok"})
    assert answer.status_code == 200
    request.refresh_from_db()
    assert request.state in ("approved", "in_fulfillment")
    assert request.approvals.get().decided_by == max_
