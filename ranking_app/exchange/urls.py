"""Routes of the exchange pages (namespace `exchange`), mounted at /data/."""

from django.urls import path

from . import views as exchange

app_name = "exchange"
urlpatterns = [
    path("projects/<slug:slug>/", exchange.project_data, name="project_data"),
    path("projects/<slug:slug>/import/", exchange.project_import, name="project_import"),
    path("projects/<slug:slug>/export/", exchange.project_export, name="project_export"),
    path("exports/<int:pk>/download/", exchange.export_download, name="export_download"),
]
