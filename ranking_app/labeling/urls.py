"""Routes of the labeling pages (namespace `labeling`)."""

from django.urls import path

from . import views as labeling

app_name = "labeling"
urlpatterns = [
    path("<slug:slug>/", labeling.start, name="start"),
    path("<slug:slug>/history/", labeling.history, name="history"),
    path("<slug:slug>/p/<int:prompt_id>/", labeling.rank, name="rank"),
    path("<slug:slug>/p/<int:prompt_id>/save/", labeling.save, name="save"),
    path("<slug:slug>/p/<int:prompt_id>/submit/", labeling.submit, name="submit"),
]
