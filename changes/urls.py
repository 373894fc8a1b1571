from django.urls import path

from . import views

app_name = "changes"
urlpatterns = [
    path("", views.home, name="home"),
    path("<str:number>/", views.change_detail, name="change_detail"),
]
