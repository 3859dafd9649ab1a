"""REST API of ranking_app, mounted under /api/ (namespace ``api``). One view per endpoint."""

from django.urls import path

from . import agreement, exports, imports, projects, prompts, rankings

app_name = "api"

urlpatterns = [
    path("projects/", projects.ProjectListApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", projects.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/prompts/", prompts.PromptListApi.as_view(), name="prompt-list"),
    path("prompts/<int:pk>/", prompts.PromptDetailApi.as_view(), name="prompt-detail"),
    path("rankings/", rankings.RankingListApi.as_view(), name="ranking-list"),
    path("rankings/<int:pk>/", rankings.RankingDetailApi.as_view(), name="ranking-detail"),
    path("projects/<slug:slug>/import/", imports.ProjectImportApi.as_view(), name="project-import"),
    path("projects/<slug:slug>/exports/", exports.ProjectExportListApi.as_view(), name="export-list"),
    path("exports/<int:pk>/", exports.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", exports.ExportDownloadApi.as_view(), name="export-download"),
    path("projects/<slug:slug>/agreement/", agreement.ProjectAgreementApi.as_view(), name="project-agreement"),
]
