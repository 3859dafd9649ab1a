"""Routes of the review pages (namespace `review`)."""

app_name = "review"
urlpatterns: list = []
