from django.urls import path

from omnihcp.fieldforce import views, views_programmes, views_territories

app_name = "fieldforce"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("visits/", views.visit_submit, name="visit-submit"),
    path("visits/new/<int:hcp_id>/", views.visit_new, name="visit-new"),
    path("visits/<int:visit_id>/", views.visit_detail, name="visit"),
    path("hcps/<int:hcp_id>/visits/", views.hcp_visits, name="hcp-visits"),
    path("plan/", views.plan_mine, name="plan-mine"),
    path("plan/<int:plan_id>/", views.plan_detail, name="plan"),
    path("team/", views.team_page, name="team"),
    path("team/<int:rep_id>/", views.team_rep, name="team-rep"),
    path("territories/", views_territories.territory_list, name="territories"),
    path("territories/<int:territory_id>/", views_territories.territory_detail, name="territory"),
    path("handovers/", views_territories.handover_list, name="handovers"),
    path("handovers/<int:handover_id>/", views_territories.handover_detail, name="handover"),
    path("actions/<int:suggestion_id>/task/", views.task_from_action, name="action-task"),
    path("programmes/", views_programmes.programme_list, name="programmes"),
    path("programmes/new/", views_programmes.programme_new, name="programme-new"),
    path("programmes/<int:programme_id>/", views_programmes.programme_detail, name="programme"),
    path(
        "programmes/<int:programme_id>/targets/<int:target_id>/",
        views_programmes.target_detail,
        name="target",
    ),
    path("tasks/<int:task_id>/feedback/", views_programmes.task_feedback, name="task-feedback"),
    path("tasks/<int:task_id>/close/", views.task_close, name="task-close"),
]
