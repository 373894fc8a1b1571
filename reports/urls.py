from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("services/<int:pk>/", views.service_review, name="service_review"),
]
