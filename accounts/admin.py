from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Service desk"), {"fields": ("language", "phone", "manager")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_superuser")
    list_select_related = ()
    autocomplete_fields = ("manager",)

    # Writes go through the accounts verbs; people are deactivated, never deleted (their
    # tickets and audit trail keep them).
    def save_model(self, request, obj, form, change):
        services.save_account(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead", "email")
    search_fields = ("name",)
    filter_horizontal = ("members",)
    autocomplete_fields = ("lead",)

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        values.pop("members", None)  # the form's ``save_related`` sets them
        services.save_team(obj, values, actor=request.user)

    def delete_model(self, request, obj):
        services.delete_team(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for team in queryset:
            services.delete_team(team, actor=request.user)
