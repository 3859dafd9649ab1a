"""Routes of the compare pages (namespace `compare`)."""

app_name = "compare"
urlpatterns: list = []
