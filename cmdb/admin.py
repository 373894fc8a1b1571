"""Admins manage the CI classes here. CIs and relationships change only through the CMDB pages,
the API and the CSV import, which audit every write; the admin shows them read-only."""

from django.contrib import admin

from . import services
from .models import CI, CIClass, CIEvent, Relationship


@admin.register(CIClass)
class CIClassAdmin(admin.ModelAdmin):
    list_display = ("label", "name", "description")
    search_fields = ("name", "label")
    prepopulated_fields = {"name": ("label",)}

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.cis.exists())

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        services.save_class(obj, values, actor=request.user)

    def delete_model(self, request, obj):
        services.delete_class(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for ci_class in queryset:
            services.delete_class(ci_class, actor=request.user)


class EventInline(admin.TabularInline):
    model = CIEvent
    fields = ("at", "actor", "field", "old", "new")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CI)
class CIAdmin(ReadOnlyAdmin):
    list_display = ("name", "ci_class", "status", "environment", "criticality", "support_group")
    list_filter = ("ci_class", "status", "environment", "criticality")
    search_fields = ("name", "supplier")
    list_select_related = ("ci_class", "support_group")
    inlines = [EventInline]


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyAdmin):
    list_display = ("source", "type", "target", "created_at")
    list_filter = ("type",)
    search_fields = ("source__name", "target__name")
    list_select_related = ("source", "target")
