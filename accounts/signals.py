from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .middleware import SESSION_KEY


@receiver(user_logged_in)
def restore_language(sender, request, user, **kwargs):
    if user.language:
        request.session[SESSION_KEY] = user.language
