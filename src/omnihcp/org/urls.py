from django.urls import path

from omnihcp.org import views

app_name = "org"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("wecom/login/", views.wecom_login, name="wecom-login"),
    path("wecom/callback/", views.wecom_callback, name="wecom-callback"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("modules/<slug:slug>/", views.module, name="module"),
]
