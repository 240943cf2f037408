from django.urls import path

from dossiers import pairing_views

app_name = "helpers"

urlpatterns = [
    path("", pairing_views.helper_list, name="list"),
    path("new/", pairing_views.helper_edit, name="new"),
    path("proposal/", pairing_views.proposal, name="proposal"),
    path("proposal/confirm/", pairing_views.proposal_confirm, name="proposal_confirm"),
    path("<int:pk>/", pairing_views.helper_detail, name="detail"),
    path("<int:pk>/edit/", pairing_views.helper_edit, name="edit"),
]
