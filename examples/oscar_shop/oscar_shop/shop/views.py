"""The shop's privacy pages: Oscar has sign-up, but no age gate, deletion or newsletter."""

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views import View
from oscar.apps.customer.forms import EmailUserCreationForm
from oscar.apps.customer.views import AccountRegistrationView
from oscar.core.loading import get_model

from .deletion import delete_customer
from .models import Profile

UserAddress = get_model("address", "UserAddress")
Country = get_model("address", "Country")
MINIMUM_AGE = 13
UNSUBSCRIBE_SALT = "oscar_shop.unsubscribe"


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class SignUpForm(EmailUserCreationForm):
    """Oscar's registration form, with the name, birth date and address the shop asks for."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    birth_date = forms.DateField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    line1 = forms.CharField(max_length=255)
    city = forms.CharField(max_length=255)
    state = forms.CharField(max_length=255)
    postcode = forms.CharField(max_length=64)

    def clean_birth_date(self) -> date:
        born = self.cleaned_data.get("birth_date")
        if born is None or age_on(born, date.today()) < MINIMUM_AGE:
            raise forms.ValidationError("You must be at least 13 years old to sign up.")
        return born

    def save(self, commit: bool = True) -> Any:
        data = self.cleaned_data
        user = super().save(commit=False)
        user.first_name, user.last_name = data["first_name"], data["last_name"]
        user.save()
        Profile.objects.create(user=user, birth_date=data["birth_date"], phone=data["phone"])
        UserAddress.objects.create(
            user=user,
            first_name=data["first_name"],
            last_name=data["last_name"],
            line1=data["line1"],
            line4=data["city"],
            state=data["state"],
            postcode=data["postcode"],
            phone_number=data["phone"],
            country=Country.objects.get(iso_3166_1_a2="US"),
        )
        return user


class SignUpView(AccountRegistrationView):
    form_class = SignUpForm


class DeleteAccountView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        logout(request)
        delete_customer(user)
        return redirect("/")


class MarketingView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        Profile.objects.filter(user=request.user).update(
            marketing_opt_in=request.POST.get("subscribe") == "1"
        )
        return HttpResponse("saved")


class UnsubscribeView(View):
    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        except signing.BadSignature:
            return HttpResponse("invalid link", status=404)
        Profile.objects.filter(user_id=user_id).update(marketing_opt_in=False)
        return HttpResponse("You are unsubscribed.")
