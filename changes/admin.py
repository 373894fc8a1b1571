"""Read-only admin pages: changes, their votes and conflicts, the process's configuration.
Every write goes through the change pages and the API, whose verbs audit and notify."""

from django.contrib import admin

from .models import Approval, Blackout, Board, Change, ChangeEvent, ChangeTemplate


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = ChangeEvent
    fields = ("at", "actor", "field", "old", "new", "internal")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApprovalInline(EventInline):
    model = Approval
    fields = ("round", "approver", "decision", "comment", "decided_by", "decided_at")
    readonly_fields = fields


@admin.register(Change)
class ChangeAdmin(ReadOnly):
    list_display = ("number", "title", "type", "state", "risk", "planned_start", "cab")
    list_filter = ("state", "type", "risk")
    search_fields = ("number", "title")
    list_select_related = ("cab",)
    raw_id_fields = ("requester", "assignee")
    inlines = [ApprovalInline, EventInline]


@admin.register(ChangeTemplate)
class TemplateAdmin(ReadOnly):
    list_display = ("name", "duration_minutes", "active")


@admin.register(Blackout)
class BlackoutAdmin(ReadOnly):
    list_display = ("name", "start", "end")


@admin.register(Board)
class BoardAdmin(ReadOnly):
    list_display = ("team", "policy")
