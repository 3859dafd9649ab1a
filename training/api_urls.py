"""Training job REST API, mounted under /api/jobs/ (admins only)."""

from django.urls import path

from .api import views
from .generation.api import GenerationLaunchApi, ProjectTimelineApi
from .judging.api import JudgingLaunchApi

app_name = "training_api"
urlpatterns = [
    path("", views.JobListApi.as_view(), name="job-list"),
    path("<int:pk>/", views.JobDetailApi.as_view(), name="job-detail"),
    path("<int:pk>/cancel/", views.JobCancelApi.as_view(), name="job-cancel"),
    path("<int:pk>/resume/", views.JobResumeApi.as_view(), name="job-resume"),
    path("generate/", GenerationLaunchApi.as_view(), name="generation-launch"),
    path("judge/", JudgingLaunchApi.as_view(), name="judging-launch"),
    path("rounds/<slug:slug>/", ProjectTimelineApi.as_view(), name="project-rounds"),
]
