from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailgateConfig(AppConfig):
    name = "mailgate"
    verbose_name = _("Mail gateway")

    def ready(self):
        # Replies by email to incidents become comments through the incident verb. Other
        # ticket types register theirs with ``itsm.extensions.mail_reply``.
        from incidents.services import comment
        from itsm.extensions import mail_reply

        mail_reply("incidents.Incident")(comment)
