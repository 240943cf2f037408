from django.urls import include, path

from dossiers import pairing_views, transition_views, views

app_name = "dossiers"

urlpatterns = [
    path("", views.household_list, name="list"),
    path("new/", views.household_create, name="create"),
    path("lookup/", views.id_lookup, name="lookup"),
    path("member-row/", views.member_row, name="member_row"),
    path("assessment-preview/", views.assessment_preview, name="assessment_preview"),
    path("civil/", include("dossiers.civil_urls")),
    path("export/", include("dossiers.export_urls")),
    path("transfers/", transition_views.incoming_transfers, name="transfers"),
    path("transfers/<int:pk>/", transition_views.transfer_decide, name="transfer_decide"),
    path("<str:file_number>/", views.household_detail, name="detail"),
    path("<str:file_number>/edit/", views.household_edit, name="edit"),
    path("<str:file_number>/print/", views.household_print, name="print"),
    path("<str:file_number>/history/", views.household_history, name="history"),
    path("<str:file_number>/members/<int:member_id>/reveal/", views.reveal_id_number, name="reveal"),
    path("<str:file_number>/category/", transition_views.override_category, name="override_category"),
    path("<str:file_number>/objections/new/", transition_views.objection_new, name="objection_new"),
    path("<str:file_number>/objections/<int:pk>/", transition_views.objection_decide, name="objection_decide"),
    path("<str:file_number>/pairing/", pairing_views.household_pairing, name="pairing"),
    path("<str:file_number>/visits/new/", pairing_views.visit_new, name="visit_new"),
    path("<str:file_number>/<str:name>/", transition_views.transition, name="transition"),
]
