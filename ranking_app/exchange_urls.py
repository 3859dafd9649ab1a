"""Routes of the exchange pages (namespace `exchange`)."""

app_name = "exchange"
urlpatterns: list = []
