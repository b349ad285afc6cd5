from django.urls import path

from omnihcp.tracking import views

app_name = "tracking"
urlpatterns = [
    path("sources/", views.source_list, name="source-list"),
    path("sources/<int:source_id>/", views.source_detail, name="source-detail"),
    path("sources/<int:source_id>/rotate/", views.source_rotate_key, name="source-rotate"),
    path("hcps/<int:hcp_id>/timeline/", views.hcp_timeline, name="hcp-timeline"),
]
