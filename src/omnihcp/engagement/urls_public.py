"""The HCP's short links (``/c/<token>/``): no login, the signed token is the key."""

from django.urls import path

from omnihcp.engagement import views_public

app_name = "engagement-public"
urlpatterns = [
    path("<str:token>/", views_public.public_content, name="content"),
    path("<str:token>/consent/", views_public.public_consent, name="consent"),
    path("<str:token>/answers/", views_public.public_answers, name="answers"),
    path("<str:token>/events/", views_public.public_event, name="events"),
    path("<str:token>/withdraw/", views_public.public_withdraw, name="withdraw"),
]
