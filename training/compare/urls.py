"""Routes of the comparison pages (namespace `compare`), mounted at /compare/: reviewers and admins only."""

from django.urls import path

from . import views

app_name = "compare"
urlpatterns = [
    path("<slug:slug>/", views.project_compare, name="project"),
    path("<slug:slug>/export.csv", views.export_csv, name="export_csv"),
    path("<slug:slug>/export.json", views.export_json, name="export_json"),
    path("<slug:slug>/evaluate/", views.evaluate, name="evaluate"),
    path("<slug:slug>/evaluations/<int:request_id>/cancel/", views.evaluation_cancel_view, name="evaluation_cancel"),
    path("<slug:slug>/prompts/<int:prompt_id>/", views.prompt_compare, name="prompt"),
    path("<slug:slug>/prompts/<int:prompt_id>/flag/", views.prompt_flag, name="flag"),
]
