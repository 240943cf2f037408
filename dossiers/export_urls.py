from django.urls import path

from dossiers import export_views

urlpatterns = [
    path("<str:file_format>/", export_views.export_households, name="export"),
]
