from django.urls import path

from omnihcp.masterdata import views, views_import, views_review

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
    path("review/", views_review.review_list, name="review-list"),
    path("review/bulk/", views_review.review_bulk, name="review-bulk"),
    path("review/<int:candidate_id>/", views_review.review_detail, name="review-detail"),
]
