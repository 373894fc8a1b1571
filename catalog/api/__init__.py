"""The catalog's API (SPEC §8, §11): the catalog itself, requests and their approvals, tasks."""

from rest_framework import routers

from .catalog import CategoryViewSet, ItemViewSet
from .requests import RequestViewSet, TaskViewSet

router = routers.SimpleRouter()
router.register("catalog/categories", CategoryViewSet, basename="catalog-categories")
router.register("catalog/items", ItemViewSet, basename="catalog-items")
router.register("requests", RequestViewSet, basename="requests")
router.register("tasks", TaskViewSet, basename="tasks")
