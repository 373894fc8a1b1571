from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = _("Changes")

    def ready(self):
        from itsm.context_processors import nav_badge

        from .approvals import waiting_count

        nav_badge("changes:home", waiting_count, label=_("approvals waiting for your vote"))
        from . import mail  # noqa: F401  (registers the email approval and reply verbs)
