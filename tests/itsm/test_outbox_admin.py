"""The outbox in the admin: read only, and failed emails sent again on request."""

from django.urls import reverse

from itsm.models import Notification
from itsm.testing import make_incident


def test_an_administrator_sends_failed_emails_again(db, client, ada, rita):
    make_incident(requester=rita)
    row = Notification.objects.get(recipient=rita)
    Notification.objects.filter(pk=row.pk).update(
        email_state="failed", email_attempts=8, last_error="554 refused by mx.example.net"
    )
    client.force_login(ada)
    listing = client.get(reverse("admin:itsm_notification_changelist"), {"email_state": "failed"})
    # the list names the failed row, not the server's answer (a row's id may contain "554")
    assert (
        listing.status_code == 200 and "refused by mx.example.net" not in listing.content.decode()
    )
    answer = client.post(
        reverse("admin:itsm_notification_changelist"),
        {"action": "retry", "_selected_action": [row.pk]},
    )
    assert answer.status_code == 302
    row.refresh_from_db()
    assert (row.email_state, row.email_attempts, row.last_error) == ("pending", 0, "")


def test_the_outbox_cannot_be_edited_in_the_admin(db, client, ada, rita):
    make_incident(requester=rita)
    row = Notification.objects.get(recipient=rita)
    client.force_login(ada)
    page = client.get(reverse("admin:itsm_notification_change", args=[row.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_failed_mail_to_an_address_is_sent_again_from_the_admin(db, client, ada):
    from itsm.models import OutboundMail

    row = OutboundMail.objects.create(
        kind="rejection", to="stranger@example.org", subject="Re: hi", body="No account."
    )
    OutboundMail.objects.filter(pk=row.pk).update(
        email_state="failed", email_attempts=8, last_error="554 refused"
    )
    client.force_login(ada)
    listing = client.get(reverse("admin:itsm_outboundmail_changelist"), {"email_state": "failed"})
    assert listing.status_code == 200 and "stranger@example.org" in listing.content.decode()
    page = client.get(reverse("admin:itsm_outboundmail_change", args=[row.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    answer = client.post(
        reverse("admin:itsm_outboundmail_changelist"),
        {"action": "retry", "_selected_action": [row.pk]},
    )
    assert answer.status_code == 302
    row.refresh_from_db()
    assert (row.email_state, row.email_attempts, row.last_error) == ("pending", 0, "")
