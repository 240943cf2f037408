from django.urls import path

from assistance import campaign_views
from assistance import subsidy_views as views

app_name = "subsidies"

urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("run/", views.run, name="run"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/approve/", views.approve, name="approve"),
    path("batches/<int:pk>/send/", views.send, name="send"),
    path("batches/<int:pk>/return/", views.record_return, name="return"),
    path("batches/<int:pk>/export.<str:file_format>", views.export, name="export"),
    path("batches/<int:pk>/disclosure/", views.disclosure_list, name="disclosure"),
    path("payments/<int:pk>/hold/", views.hold, name="hold"),
    path("payments/<int:pk>/reissue/", views.reissue, name="reissue"),
    path("skipped/<int:pk>/release/", views.release, name="release"),
    path("discrepancies/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("budgets/", views.budgets, name="budgets"),
    path("schedules/<int:pk>/status/", views.schedule_status, name="schedule_status"),
    path("households/<str:file_number>/", views.household_subsidies, name="household"),
    path("campaigns/", campaign_views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", campaign_views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/run/", campaign_views.campaign_run, name="campaign_run"),
    path("campaigns/<int:pk>/visits/<str:file_number>/", campaign_views.campaign_visit, name="campaign_visit"),
]
