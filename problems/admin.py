from django.contrib import admin

from .models import Problem, ProblemEvent


class EventInline(admin.TabularInline):
    model = ProblemEvent
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


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "state", "priority", "known_error", "assignee", "created_at")
    list_filter = ("state", "priority", "known_error", "publish_workaround")
    search_fields = ("number", "title")
    readonly_fields = ("number", "state", "version", "created_at", "updated_at")
    list_select_related = ("assignee",)
    raw_id_fields = ("requester", "assignee")
    inlines = [EventInline]

    # Problems change only through their pages and the API, which audit every write.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
