"""HTML pages of ranking_app. Each area keeps its routes next to its views."""

from django.urls import path

from .projects import views as projects

urlpatterns = [
    path("", projects.home, name="home"),
    path("projects/<slug:slug>/", projects.project_detail, name="project_detail"),
]
