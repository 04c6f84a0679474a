"""What the shop keeps about a customer beyond Oscar's user and address book."""

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    birth_date = models.DateField()
    phone = models.CharField(max_length=40, blank=True)
    marketing_opt_in = models.BooleanField(default=True)
