from django.urls import path

from omnihcp.masterdata import views

app_name = "masterdata"
urlpatterns = [
    path("hcps/", views.hcp_list, name="hcp-list"),
    path("hcps/<int:hcp_id>/", views.hcp_detail, name="hcp-detail"),
    path("hcps/<int:hcp_id>/reveal/", views.hcp_reveal, name="hcp-reveal"),
    path("hcos/", views.hco_list, name="hco-list"),
    path("hcos/<int:hco_id>/", views.hco_detail, name="hco-detail"),
]
