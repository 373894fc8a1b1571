from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundMessage(models.Model):
    """One message the gateway read, and what became of it: the log an operator reads, and
    the record that makes a message read twice (an MTA retry, an IMAP poll that overlapped,
    a Maildir ingested again) count once."""

    class Outcome(models.TextChoices):
        OPENED = "opened", _("Ticket opened")
        COMMENTED = "commented", _("Comment added")
        IGNORED = "ignored", _("Ignored")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    # The Message-ID, or "sha256:<digest of the bytes>" for a message without one.
    message_id = models.CharField(_("message id"), max_length=255, unique=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    source = models.CharField(_("source"), max_length=16)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=32)
    detail = models.TextField(_("detail"), blank=True)
    ticket = models.CharField(_("ticket"), max_length=16, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="inbound_received_idx"),
            models.Index(fields=["ticket"], name="inbound_ticket_idx"),
            models.Index(fields=["sender", "outcome", "received_at"], name="inbound_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.sender} {self.outcome}"
