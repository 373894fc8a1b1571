from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .signin import refuse_sprayers

urlpatterns = [
    path(
        "login/",
        refuse_sprayers(
            auth_views.LoginView.as_view(
                template_name="accounts/login.html",
                redirect_authenticated_user=True,
                # Django's form views take PUT as POST, but no form data comes with a PUT
                http_method_names=["get", "post", "head", "options"],
            )
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("people/lookup/", views.person_lookup, name="person_lookup"),
]
