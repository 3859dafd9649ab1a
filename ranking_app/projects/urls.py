"""HTML pages of projects: the home page (every project) and one project's page."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/<slug:slug>/", views.project_detail, name="project_detail"),
]
