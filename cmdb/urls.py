from django.urls import path

from . import views

app_name = "cmdb"
urlpatterns = [
    path("", views.home, name="home"),
    path("cis/", views.ci_list, name="ci_list"),
    path("cis/add/", views.ci_add, name="ci_add"),
    path("cis/export/", views.ci_export, name="ci_export"),
    path("cis/import/", views.ci_import, name="ci_import"),
    path("cis/lookup/", views.ci_lookup, name="ci_lookup"),
    path("cis/<int:pk>/", views.ci_detail, name="ci_detail"),
    path("cis/<int:pk>/edit/", views.ci_edit, name="ci_edit"),
    path("cis/<int:pk>/retire/", views.ci_retire, name="ci_retire"),
    path("cis/<int:pk>/relationships/", views.relationship_add, name="relationship_add"),
    path(
        "cis/<int:pk>/relationships/<int:relationship_id>/delete/",
        views.relationship_delete,
        name="relationship_delete",
    ),
    path("services/", views.service_list, name="service_list"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
]
