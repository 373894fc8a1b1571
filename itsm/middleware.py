"""Response headers Django does not set itself (the CSP comes from django-csp)."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` on every response: the features no page uses are refused."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
