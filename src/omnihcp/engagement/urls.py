from django.urls import path

from omnihcp.engagement import (
    views,
    views_answers,
    views_campaigns,
    views_consent,
    views_performance,
    views_questions,
    views_share,
    views_training,
)

app_name = "engagement"
urlpatterns = [
    path("hcps/<int:hcp_id>/share/", views_share.hcp_share, name="hcp-share"),
    path("hcps/<int:hcp_id>/answers/", views_answers.hcp_answers, name="hcp-answers"),
    path("hcps/<int:hcp_id>/consent/", views_consent.hcp_consent, name="hcp-consent"),
    path("campaigns/", views_campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", views_campaigns.campaign_new, name="campaign-new"),
    path("campaigns/<int:campaign_id>/", views_campaigns.campaign_detail, name="campaign-detail"),
    path(
        "campaigns/<int:campaign_id>/cancel/",
        views_campaigns.campaign_cancel,
        name="campaign-cancel",
    ),
    path("training/", views_training.training_home, name="training"),
    path("training/new/", views_training.course_new, name="course-new"),
    path("training/<int:course_id>/", views_training.course_detail, name="course"),
    path(
        "training/<int:course_id>/items/<int:item_id>/",
        views_training.course_item,
        name="course-item",
    ),
    path("training/<int:course_id>/quiz/", views_training.course_quiz, name="course-quiz"),
    path("performance/", views_performance.performance_page, name="performance"),
    path("content/", views.content_list, name="content-list"),
    path("content/new/", views.content_new, name="content-new"),
    path("content/<int:content_id>/", views.content_detail, name="content-detail"),
    path("content/<int:content_id>/edit/", views.content_edit, name="content-edit"),
    path(
        "content/<int:content_id>/questions/",
        views_questions.content_questions,
        name="content-questions",
    ),
    path(
        "content/<int:content_id>/<slug:action>/",
        views.content_action,
        name="content-action",
    ),
]
