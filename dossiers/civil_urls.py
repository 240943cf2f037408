from django.urls import path

from dossiers import civil_views

urlpatterns = [
    path("", civil_views.roster_list, name="civil_list"),
    path("upload/", civil_views.roster_upload, name="civil_upload"),
    path("<int:pk>/", civil_views.roster_detail, name="civil_detail"),
    path("<int:pk>/accept-all/", civil_views.accept_all, name="civil_accept_all"),
    path("<int:pk>/entries/<int:entry_pk>/accept/", civil_views.accept_entry, name="civil_accept"),
]
