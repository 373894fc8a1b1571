from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

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


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead", "email")
    search_fields = ("name",)
    filter_horizontal = ("members",)
    autocomplete_fields = ("lead",)
