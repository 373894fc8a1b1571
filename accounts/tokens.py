"""API tokens that expire (``API_TOKEN_DAYS``): a token copied into a script years ago, or left
in a laptop's shell history, stops opening the desk on its own."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expiry(token) -> datetime:
    return token.created + settings.API_TOKEN_LIFETIME


def is_expired(token, now=None) -> bool:
    return (now or timezone.now()) >= token_expiry(token)


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refused (401) once the token has expired or its owner was
    deactivated."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if is_expired(token):
            raise exceptions.AuthenticationFailed("Token expired: ask auth/token/ for a new one.")
        return user, token
