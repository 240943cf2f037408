"""The Content-Security-Policy of every response (settings.SECURE_CSP), and the admin's own (SECURE_CSP_ADMIN):
django-unfold builds its pages with Alpine.js, whose x-data expressions are evaluated with new Function(), and
writes style="" attributes, so the admin needs 'unsafe-eval' and inline styles that the application never does."""

from django.conf import settings
from django.middleware import csp
from django.urls import reverse


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    def process_response(self, request, response):
        if not hasattr(response, "_csp_config") and request.path.startswith(reverse("admin:index")):
            response._csp_config = settings.SECURE_CSP_ADMIN
        return super().process_response(request, response)
