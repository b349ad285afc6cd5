from django.urls import path

from omnihcp.masterdata import (
    views,
    views_dcr,
    views_import,
    views_platform,
    views_quality,
    views_review,
    views_sources,
)

app_name = "masterdata"
urlpatterns = [
    path("hcps/", views.hcp_list, name="hcp-list"),
    path("hcps/<int:hcp_id>/", views.hcp_detail, name="hcp-detail"),
    path("hcps/<int:hcp_id>/reveal/", views.hcp_reveal, name="hcp-reveal"),
    path("hcos/", views.hco_list, name="hco-list"),
    path("hcos/<int:hco_id>/", views.hco_detail, name="hco-detail"),
    path("imports/", views_import.import_list, name="import-list"),
    path("imports/new/", views_import.import_new, name="import-new"),
    path("imports/<int:batch_id>/", views_import.import_detail, name="import-detail"),
    path("imports/<int:batch_id>/mapping/", views_import.import_mapping, name="import-mapping"),
    path(
        "imports/<int:batch_id>/rejected.csv",
        views_import.import_rejected_csv,
        name="import-rejected",
    ),
    path("merges/<int:event_id>/unmerge/", views_review.hcp_unmerge, name="hcp-unmerge"),
    path("hco-merges/<int:event_id>/unmerge/", views.hco_unmerge, name="hco-unmerge"),
    path("review/", views_review.review_list, name="review-list"),
    path("review/bulk/", views_review.review_bulk, name="review-bulk"),
    path("review/<int:candidate_id>/", views_review.review_detail, name="review-detail"),
    path("quality/", views_quality.quality_page, name="quality"),
    path("sources/", views_sources.source_list, name="source-list"),
    path(
        "sources/<int:source_id>/priority/", views_sources.source_priority, name="source-priority"
    ),
    path("platforms/", views_platform.platform_list, name="platform-list"),
    path("platforms/new/", views_platform.platform_new, name="platform-new"),
    path("platforms/<int:list_id>/", views_platform.platform_detail, name="platform-detail"),
    path(
        "platforms/<int:list_id>/unmatched.csv",
        views_platform.platform_unmatched_csv,
        name="platform-unmatched",
    ),
    path("platforms/<int:list_id>/review/", views_platform.platform_review, name="platform-review"),
    path("dcr/", views_dcr.dcr_list, name="dcr-list"),
    path("dcr/new/", views_dcr.dcr_new, name="dcr-new"),
    path("dcr/suggest/", views_dcr.dcr_suggest, name="dcr-suggest"),
    path("dcr/mine/", views_dcr.dcr_mine, name="dcr-mine"),
    path("dcr/<int:dcr_id>/", views_dcr.dcr_detail, name="dcr-detail"),
    path("dcr/<int:dcr_id>/withdraw/", views_dcr.dcr_withdraw, name="dcr-withdraw"),
]
