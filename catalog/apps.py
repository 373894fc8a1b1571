from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Service catalog")

    def ready(self):
        from . import mail  # noqa: F401  (registers the email approval and reply verbs)
