"""Admin: configuration is edited on the manager pages (``/sla/``), which recompute timers;
timers, events and escalations are shown read-only here."""

from django.contrib import admin

from .models import Calendar, Escalation, Holiday, Policy, SlaEvent, Timer


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Calendar)
class CalendarAdmin(ReadOnly):
    list_display = ["name", "timezone", "is_default", "version"]
    inlines = [HolidayInline]


@admin.register(Policy)
class PolicyAdmin(ReadOnly):
    list_display = ["order", "name", "applies_to", "calendar", "active", "version"]
    list_display_links = ["name"]


@admin.register(Timer)
class TimerAdmin(ReadOnly):
    list_display = [
        "id",
        "incident",
        "request",
        "metric",
        "state",
        "clock",
        "due_at",
        "next_check_at",
    ]
    list_filter = ["state", "metric", "clock"]
    raw_id_fields = ["incident", "request"]
    list_select_related = ["incident", "request"]


@admin.register(SlaEvent)
class SlaEventAdmin(ReadOnly):
    list_display = ["timer", "kind", "at", "actor"]
    list_filter = ["kind"]
    raw_id_fields = ["timer"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnly):
    list_display = ["timer", "level", "crossed_at", "created_at", "actions_done_at"]
    raw_id_fields = ["timer"]
