"""Routes of the labeling pages (namespace `labeling`)."""

app_name = "labeling"
urlpatterns: list = []
