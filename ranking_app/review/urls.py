"""Routes of the review pages (namespace `review`): reviewers and admins only."""

from django.urls import path

from . import views as review

app_name = "review"
urlpatterns = [
    path("<slug:slug>/", review.dashboard, name="dashboard"),
    path("<slug:slug>/queue/", review.queue, name="queue"),
    path("<slug:slug>/prompts/<int:prompt_id>/", review.prompt_detail, name="prompt"),
    path("<slug:slug>/prompts/<int:prompt_id>/adjudicate/", review.adjudicate, name="adjudicate"),
    path("<slug:slug>/prompts/<int:prompt_id>/send-back/", review.send_back, name="send_back"),
    path("<slug:slug>/prompts/<int:prompt_id>/gold/", review.gold, name="gold"),
]
