"""Oscar's own pages, and the shop's privacy pages Oscar does not have."""

from django.apps import apps
from django.urls import include, path

from .shop import views

urlpatterns = [
    path("accounts/sign-up/", views.SignUpView.as_view(), name="sign-up"),
    path("privacy/delete/", views.DeleteAccountView.as_view(), name="delete-account"),
    path("privacy/marketing/", views.MarketingView.as_view(), name="marketing"),
    path("privacy/unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
