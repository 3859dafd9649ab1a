"""REST API of ranking_app, mounted under /api/ (namespace ``api``). One view per endpoint; each
feature keeps its endpoints in its own ``api.py`` (projects and prompts, labeling, exchange, review)."""

from django.urls import path

from ..exchange import api as exchange
from ..labeling import api as labeling
from ..projects import api as projects
from ..review import api as review

app_name = "api"

urlpatterns = [
    path("projects/", projects.ProjectListApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", projects.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/prompts/", projects.PromptListApi.as_view(), name="prompt-list"),
    path("prompts/<int:pk>/", projects.PromptDetailApi.as_view(), name="prompt-detail"),
    path("rankings/", labeling.RankingListApi.as_view(), name="ranking-list"),
    path("rankings/<int:pk>/", labeling.RankingDetailApi.as_view(), name="ranking-detail"),
    path("projects/<slug:slug>/import/", exchange.ProjectImportApi.as_view(), name="project-import"),
    path("projects/<slug:slug>/exports/", exchange.ProjectExportListApi.as_view(), name="export-list"),
    path("exports/<int:pk>/", exchange.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", exchange.ExportDownloadApi.as_view(), name="export-download"),
    path("projects/<slug:slug>/agreement/", review.ProjectAgreementApi.as_view(), name="project-agreement"),
]
