from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="incident_list"),
    path("incidents/<str:number>/", views.incident_detail, name="incident_detail"),
]
