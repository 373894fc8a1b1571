from django.contrib import admin

from .models import Incident, IncidentEvent


class EventInline(admin.TabularInline):
    model = IncidentEvent
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


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "state", "priority", "assignee", "created_at")
    list_filter = ("state", "priority", "major")
    search_fields = ("number", "title")
    readonly_fields = ("number", "state", "priority", "version", "created_at", "updated_at")
    list_select_related = ("assignee",)
    raw_id_fields = ("requester", "assignee", "parent")
    inlines = [EventInline]

    # Tickets change only through the desk and the API, which audit every write.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
