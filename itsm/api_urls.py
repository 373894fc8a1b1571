"""``/api/v1/``: the routers of the kernel and of each app, joined."""

from accounts.api import urlpatterns as accounts_urls
from catalog.api import router as catalog_router
from changes.api import router as changes_router
from cmdb.api import router as cmdb_router
from incidents.api import router as incidents_router
from problems.api import urlpatterns as problems_urls
from reports.api import urlpatterns as reports_urls
from sla.api import urlpatterns as sla_urls

from .api import urlpatterns as kernel_urls

urlpatterns = [
    *accounts_urls,
    *kernel_urls,
    *incidents_router.urls,
    *changes_router.urls,
    *cmdb_router.urls,
    *catalog_router.urls,
    *problems_urls,
    *sla_urls,
    *reports_urls,
]
