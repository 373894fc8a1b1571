from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("", views.home, name="home"),
    path("calendars/", views.calendar_list, name="calendar_list"),
    path("calendars/add/", views.calendar_add, name="calendar_add"),
    path("calendars/<int:pk>/", views.calendar_detail, name="calendar_detail"),
    path("calendars/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/add/", views.policy_add, name="policy_add"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
]
