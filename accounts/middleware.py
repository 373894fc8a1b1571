from django.conf import settings

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
