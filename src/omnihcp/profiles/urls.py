from django.urls import path

from omnihcp.profiles import views

app_name = "profiles"
urlpatterns = [
    path("tags/", views.tag_list, name="tag-list"),
    path("tags/new/", views.tag_new, name="tag-new"),
    path("tags/<int:tag_id>/", views.tag_detail, name="tag-detail"),
    path("tags/<int:tag_id>/edit/", views.tag_edit, name="tag-edit"),
    path("tags/<int:tag_id>/recompute/", views.tag_recompute, name="tag-recompute"),
    path("rules/check/", views.rule_check, name="rule-check"),
    path("hcps/<int:hcp_id>/tags/", views.hcp_tags, name="hcp-tags"),
]
