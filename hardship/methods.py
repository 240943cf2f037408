"""Only the HTTP methods the application uses: every form and htmx request is a GET or a POST, so a PUT, PATCH or
DELETE (or any other verb) is refused before a view runs, instead of being read as a GET by views that only
check for POST."""

from django.http import HttpResponseNotAllowed

ALLOWED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")


class AllowedMethodsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ALLOWED_METHODS:
            return HttpResponseNotAllowed(ALLOWED_METHODS)
        return self.get_response(request)
