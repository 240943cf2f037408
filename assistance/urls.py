from django.urls import path

from assistance import views

app_name = "assistance"

# Inside the household file: included under households/ (before the dossiers app, whose patterns it extends).
urlpatterns = [
    path("<str:file_number>/plan/", views.plan_page, name="plan"),
    path("<str:file_number>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("<str:file_number>/plan/measures/new/", views.measure_new, name="measure_new"),
    path("<str:file_number>/plan/measures/<int:pk>/", views.measure_edit, name="measure_edit"),
]
