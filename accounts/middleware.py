import zoneinfo

from django.conf import settings
from django.utils import timezone

SESSION_KEY = "user_language"


class UserLanguageMiddleware:
    """Puts a signed-in user's saved language in front of the browser's choice.

    Runs before ``LocaleMiddleware`` and hands it the language stored in the session at login
    (or by the language switcher) as if it were the language cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_KEY)
        if language:
            request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = language
        return self.get_response(request)


class UserTimeZoneMiddleware:
    """Shows every instant in the signed-in user's time zone (their preference), else in the
    server's (``TIME_ZONE``). Runs after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = getattr(getattr(request, "user", None), "time_zone", "")
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
