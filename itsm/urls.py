from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .api_urls import urlpatterns as api_urlpatterns

notification_urls = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("preferences/", views.notification_preferences, name="preferences"),
]
approval_urls = [path("<str:token>/", views.approval_link, name="link")]

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("portal/", include("portal.urls")),
    path("desk/", include("incidents.urls")),
    path("", include("catalog.urls")),
    path("problems/", include("problems.urls")),
    path("changes/", include("changes.urls")),
    path("cmdb/", include("cmdb.urls")),
    path("sla/", include("sla.urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include((notification_urls, "notifications"))),
    path("approvals/", include((approval_urls, "approvals"))),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # an HTML page: OPTIONS would ask its HTML renderer for API metadata (a 500)
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema",
            template_name="itsm/swagger_ui.html",
            http_method_names=["get", "head"],
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

handler500 = "itsm.views.server_error"
