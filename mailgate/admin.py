from django.contrib import admin

from .models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """The gateway's log: read only (what came in, and what became of it)."""

    list_display = ("received_at", "sender", "subject", "outcome", "reason", "ticket", "source")
    list_filter = ("outcome", "reason", "source")
    search_fields = ("sender", "subject", "ticket", "message_id")
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
