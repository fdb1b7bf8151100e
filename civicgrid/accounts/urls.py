from django.contrib.auth import views as auth_views
from django.urls import path

from civicgrid.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
staff_urlpatterns = [
    path("", views.staff_list, name="staff_list"),
    path("<int:pk>/", views.staff_detail, name="staff_detail"),
    path("<int:pk>/phone/", views.reveal_phone, name="reveal_phone"),
]
