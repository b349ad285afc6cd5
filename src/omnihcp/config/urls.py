"""URL map: pages per app, the JSON API at /api/ (OpenAPI at /api/docs), admin, i18n."""

from django.contrib import admin
from django.urls import include, path

from omnihcp.config.api import api

urlpatterns = [
    path("", include("omnihcp.org.urls")),
    path("md/", include("omnihcp.masterdata.urls")),
    path("tracking/", include("omnihcp.tracking.urls")),
    path("engagement/", include("omnihcp.engagement.urls")),
    path("c/", include("omnihcp.engagement.urls_public")),
    path("profiles/", include("omnihcp.profiles.urls")),
    path("ff/", include("omnihcp.fieldforce.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
