from django.urls import path

from reporting import dashboard_views

app_name = "reporting"
urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
    path("targets/", dashboard_views.targets, name="targets"),
    path("<str:code>/", dashboard_views.dashboard, name="dashboard"),
    path("<str:code>/data.json", dashboard_views.dashboard_data, name="data"),
    path("<str:code>/print/", dashboard_views.dashboard_print, name="print"),
    path("<str:code>/export.xlsx", dashboard_views.dashboard_export, name="export"),
]
