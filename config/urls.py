from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/jobs/", include("training.api_urls")),
    path("api/", include("ranking_app.api.urls")),
    path("label/", include("ranking_app.labeling.urls")),
    path("review/", include("ranking_app.review.urls")),
    path("data/", include("ranking_app.exchange.urls")),
    path("compare/", include("training.compare.urls")),
    path("jobs/", include("training.urls")),
    path("", include("ranking_app.projects.urls")),
]

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
