"""REST API of ranking_app, mounted under /api/."""

urlpatterns: list = []
