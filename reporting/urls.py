from django.urls import path

from reporting import views

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/access-records.<str:file_format>", views.audit_export, name="audit_export"),
]
