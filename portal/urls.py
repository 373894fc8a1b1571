from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("report/suggestions/", views.report_suggestions, name="report_suggestions"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("knowledge/<str:number>/", views.known_error, name="known_error"),
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<str:number>/comment/", views.ticket_comment, name="ticket_comment"),
    path("tickets/<str:number>/attach/", views.ticket_attach, name="ticket_attach"),
    path(
        "tickets/<str:number>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("tickets/<str:number>/confirm/", views.ticket_confirm, name="ticket_confirm"),
    path("tickets/<str:number>/reopen/", views.ticket_reopen, name="ticket_reopen"),
    path("tickets/<str:number>/cancel/", views.ticket_cancel, name="ticket_cancel"),
    path("tickets/<str:number>/rating/", views.ticket_rate, name="ticket_rate"),
]
