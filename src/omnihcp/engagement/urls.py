from django.urls import path

from omnihcp.engagement import views, views_consent, views_share

app_name = "engagement"
urlpatterns = [
    path("hcps/<int:hcp_id>/share/", views_share.hcp_share, name="hcp-share"),
    path("hcps/<int:hcp_id>/consent/", views_consent.hcp_consent, name="hcp-consent"),
    path("content/", views.content_list, name="content-list"),
    path("content/new/", views.content_new, name="content-new"),
    path("content/<int:content_id>/", views.content_detail, name="content-detail"),
    path("content/<int:content_id>/edit/", views.content_edit, name="content-edit"),
    path(
        "content/<int:content_id>/<slug:action>/",
        views.content_action,
        name="content-action",
    ),
]
