"""``/api/v1/``: the routers of the kernel and of each app, joined."""

from accounts.api import urlpatterns as accounts_urls
from cmdb.api import router as cmdb_router
from incidents.api import router as incidents_router
from sla.api import urlpatterns as sla_urls

from .api import urlpatterns as kernel_urls

urlpatterns = [
    *accounts_urls,
    *kernel_urls,
    *incidents_router.urls,
    *cmdb_router.urls,
    *sla_urls,
]
