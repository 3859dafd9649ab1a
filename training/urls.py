"""Training job pages (namespace `training`), mounted at /jobs/."""

from django.urls import path

from . import views
from .generation.views import generation_launch_view, project_timeline_view
from .judging.views import judging_launch_view

app_name = "training"
urlpatterns = [
    path("", views.job_list_view, name="job_list"),
    path("new/", views.job_launch_view, name="job_launch"),
    path("new/readiness/", views.launch_readiness_view, name="launch_readiness"),
    path("generate/", generation_launch_view, name="generation_launch"),
    path("judge/", judging_launch_view, name="judging_launch"),
    path("timeline/<slug:slug>/", project_timeline_view, name="project_timeline"),
    path("<int:pk>/", views.job_detail_view, name="job_detail"),
    path("<int:pk>/metrics.json", views.job_metrics_view, name="job_metrics"),
    path("<int:pk>/cancel/", views.job_cancel_view, name="job_cancel"),
    path("<int:pk>/resume/", views.job_resume_view, name="job_resume"),
    path("<int:pk>/adapter.zip", views.job_adapter_download_view, name="job_adapter"),
    path("<int:pk>/merge/", views.job_merge_view, name="job_merge"),
    path("<int:pk>/merge/cancel/", views.job_merge_cancel_view, name="job_merge_cancel"),
    path("<int:pk>/merged.zip", views.job_merged_download_view, name="job_merged"),
]
