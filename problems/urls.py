from django.urls import path

from . import views

app_name = "problems"
urlpatterns = [
    path("", views.problem_list, name="home"),
    path("", views.problem_list, name="problem_list"),
    path("new/", views.problem_add, name="problem_add"),
    path("candidates/", views.candidate_list, name="candidate_list"),
    path("candidates/new/", views.candidate_create, name="candidate_create"),
    path(
        "candidates/<str:kind>/<int:key>/",
        views.candidate_incidents,
        name="candidate_incidents",
    ),
    path("<str:number>/", views.problem_detail, name="problem_detail"),
    path("<str:number>/edit/", views.problem_update, name="problem_update"),
    path("<str:number>/state/", views.problem_state, name="problem_state"),
    path("<str:number>/resolve/", views.problem_resolve, name="problem_resolve"),
    path("<str:number>/publish/", views.problem_publish, name="problem_publish"),
    path("<str:number>/link/", views.problem_link, name="problem_link"),
    path("<str:number>/unlink/", views.problem_unlink, name="problem_unlink"),
    path("<str:number>/comment/", views.problem_comment, name="problem_comment"),
    path("<str:number>/attach/", views.problem_attach, name="problem_attach"),
    path(
        "<str:number>/attachments/<int:attachment_id>/",
        views.problem_attachment,
        name="problem_attachment",
    ),
]
