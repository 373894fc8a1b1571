from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import notify
from .models import Notification, OutboundMail


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read only: where each notification's email stands, and why a failed one
    failed. Failed emails can be sent again (after fixing an address or the mail server)."""

    list_display = ("created_at", "recipient", "kind", "ticket", "subject", "email_state")
    list_filter = ("email_state", "kind")
    search_fields = ("recipient__username", "recipient__email", "ticket", "subject")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ["retry"]
    fields = (
        "recipient",
        "kind",
        "ticket",
        "subject",
        "message",
        "url",
        "created_at",
        "read_at",
        "in_app",
        "email_state",
        "email_attempts",
        "next_attempt_at",
        "emailed_at",
        "last_error",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the failed emails again"))
    def retry(self, request, queryset):
        count = notify.retry_failed(queryset, actor=request.user)
        self.message_user(
            request,
            ngettext("%(count)d email is due again.", "%(count)d emails are due again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    """The outbox's mail to addresses (former addresses, strangers turned away), read only;
    failed ones can be sent again."""

    list_display = ("created_at", "to", "kind", "subject", "email_state")
    list_filter = ("email_state", "kind")
    search_fields = ("to", "subject")
    date_hierarchy = "created_at"
    actions = ["retry"]
    fields = (
        "kind",
        "to",
        "subject",
        "body",
        "created_at",
        "email_state",
        "email_attempts",
        "next_attempt_at",
        "emailed_at",
        "last_error",
    )

    has_add_permission = NotificationAdmin.has_add_permission
    has_change_permission = NotificationAdmin.has_change_permission
    has_delete_permission = NotificationAdmin.has_delete_permission
    retry = NotificationAdmin.retry
