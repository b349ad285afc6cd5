from django.urls import path

from omnihcp.profiles import views, views_360, views_nba, views_segments, views_tiers

app_name = "profiles"
urlpatterns = [
    path("tags/", views.tag_list, name="tag-list"),
    path("tags/new/", views.tag_new, name="tag-new"),
    path("tags/<int:tag_id>/", views.tag_detail, name="tag-detail"),
    path("tags/<int:tag_id>/edit/", views.tag_edit, name="tag-edit"),
    path("tags/<int:tag_id>/recompute/", views.tag_recompute, name="tag-recompute"),
    path("rules/check/", views.rule_check, name="rule-check"),
    path("hcps/<int:hcp_id>/", views_360.hcp_360, name="hcp-360"),
    path("hcps/<int:hcp_id>/tags/", views.hcp_tags, name="hcp-tags"),
    path("adoption/", views.adoption_funnel, name="adoption-funnel"),
    path("tiers/", views_tiers.tier_matrix, name="tiers"),
    path("nba/", views_nba.nba_list, name="nba"),
    path("nba/<int:suggestion_id>/feedback/", views_nba.nba_feedback, name="nba-feedback"),
    path("nba/report/", views_nba.nba_report, name="nba-report"),
    path("segments/", views_segments.segment_list, name="segment-list"),
    path("segments/new/", views_segments.segment_new, name="segment-new"),
    path("segments/<int:segment_id>/", views_segments.segment_detail, name="segment-detail"),
    path("segments/<int:segment_id>/edit/", views_segments.segment_edit, name="segment-edit"),
    path(
        "segments/<int:segment_id>/export/",
        views_segments.segment_export,
        name="segment-export",
    ),
    path(
        "segments/<int:segment_id>/campaign/",
        views_segments.segment_campaign,
        name="segment-campaign",
    ),
]
