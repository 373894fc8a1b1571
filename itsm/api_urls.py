"""``/api/v1/``: the routers of the kernel and of each app, joined."""

from accounts.api import urlpatterns as accounts_urls
from incidents.api import router as incidents_router

from .api import router as kernel_router

urlpatterns = [
    *accounts_urls,
    *kernel_router.urls,
    *incidents_router.urls,
]
