from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from hardship import views

urlpatterns = [
    path("", include("reporting.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("households/", include("dossiers.urls")),
    path("unions/<str:code>/", views.union_detail, name="union_detail"),
    path("unions/<str:code>/export.<str:file_format>", views.union_export, name="union_export"),
    path("health/", views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links (downloads, JSON, the print page).
    path("favicon.ico", lambda request: redirect(static("favicon.ico"), permanent=True)),
]
