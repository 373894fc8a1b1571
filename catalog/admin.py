"""Admin: the catalog is edited on its own pages (``/catalog/``: the form builder, through the
verbs); requests, approvals and tasks change only through the desk, the portal and the API,
which audit every write. Everything is shown read-only here."""

from django.contrib import admin

from .models import Approval, CatalogItem, Category, Request, RequestEvent, Task


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(ReadOnly):
    list_display = ("name", "slug", "order", "active")


@admin.register(CatalogItem)
class CatalogItemAdmin(ReadOnly):
    list_display = ("name", "category", "approval", "fulfillment_team", "active")
    list_filter = ("category", "approval", "active")
    search_fields = ("name", "summary")
    list_select_related = ("category", "fulfillment_team")


class EventInline(admin.TabularInline):
    model = RequestEvent
    fields = ("at", "actor", "field", "old", "new", "internal")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Request)
class RequestAdmin(ReadOnly):
    list_display = ("number", "title", "state", "requested_for", "created_at")
    list_filter = ("state", "approval")
    search_fields = ("number", "title")
    list_select_related = ("requested_for",)
    raw_id_fields = ("requester", "requested_for", "assignee")
    inlines = [EventInline]


@admin.register(Approval)
class ApprovalAdmin(ReadOnly):
    list_display = ("request", "approver", "team", "state", "decided_by", "decided_at")
    list_filter = ("state",)
    list_select_related = ("request", "approver", "team", "decided_by")


@admin.register(Task)
class TaskAdmin(ReadOnly):
    list_display = ("number", "title", "state", "assignment_group", "assignee", "created_at")
    list_filter = ("state",)
    search_fields = ("number", "title")
    list_select_related = ("assignment_group", "assignee")
