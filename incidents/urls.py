from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_add, name="incident_add"),
    path("incidents/bulk/", views.incident_bulk, name="incident_bulk"),
    path("incidents/caller/", views.incident_caller, name="incident_caller"),
    path("incidents/<str:number>/", views.incident_detail, name="incident_detail"),
    path("incidents/<str:number>/edit/", views.incident_update, name="incident_update"),
    path("incidents/<str:number>/take/", views.incident_take, name="incident_take"),
    path("incidents/<str:number>/hold/", views.incident_hold, name="incident_hold"),
    path("incidents/<str:number>/resolve/", views.incident_resolve, name="incident_resolve"),
    path("incidents/<str:number>/state/", views.incident_state, name="incident_state"),
    path("incidents/<str:number>/comment/", views.incident_comment, name="incident_comment"),
    path("incidents/<str:number>/attach/", views.incident_attach, name="incident_attach"),
    path(
        "incidents/<str:number>/problem/",
        views.incident_link_problem,
        name="incident_link_problem",
    ),
    path("incidents/<str:number>/promote/", views.incident_promote, name="incident_promote"),
    path(
        "incidents/<str:number>/suggestions/",
        views.incident_suggestions,
        name="incident_suggestions",
    ),
    path(
        "incidents/<str:number>/attachments/<int:attachment_id>/",
        views.incident_attachment,
        name="incident_attachment",
    ),
    path(
        "incidents/<str:number>/attachments/<int:attachment_id>/visibility/",
        views.incident_attachment_visibility,
        name="incident_attachment_visibility",
    ),
]
