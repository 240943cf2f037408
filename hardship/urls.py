from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from hardship import health, role_views, views
from hardship.security import views as security_views

urlpatterns = [
    path("", include("reporting.urls")),
    path("dashboard/", include("reporting.dashboard_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/security/", security_views.account, name="account_security"),
    path("accounts/password/", security_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/two-factor/", security_views.verify, name="otp_verify"),
    path("accounts/two-factor/setup/", security_views.setup, name="otp_setup"),
    path("accounts/two-factor/disable/", security_views.disable, name="otp_disable"),
    path("households/", include("assistance.urls")),
    path("helpers/", include("dossiers.pairing_urls")),
    path("subsidies/", include("assistance.subsidy_urls")),
    path("households/", include("dossiers.urls")),
    path("security/requests/", role_views.role_requests, name="role_requests"),
    path("security/requests/<int:user_id>/<str:decision>/", role_views.decide_role_request,
         name="role_request_decide"),
    path("unions/<str:code>/", views.union_detail, name="union_detail"),
    path("unions/<str:code>/export.<str:file_format>", views.union_export, name="union_export"),
    path("health/", health.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links (downloads, JSON, the print page).
    path("favicon.ico", lambda request: redirect(static("favicon.ico"), permanent=True)),
]

handler403 = "hardship.views.permission_denied"  # renders 403.html and writes the refusal to the access record
