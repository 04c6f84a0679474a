"""The shop's mail through Oscar's communication framework: a newsletter and service mail."""

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from oscar.apps.communication.utils import Dispatcher
from oscar.core.loading import get_model

from .models import Profile

CommunicationEventType = get_model("communication", "CommunicationEventType")
SITE = "http://testserver"


def _event_type(code: str, subject: str, body: str) -> object:
    event_type, _ = CommunicationEventType.objects.get_or_create(
        code=code,
        defaults={
            "name": code.title(),
            "email_subject_template": subject,
            "email_body_template": body,
        },
    )
    return event_type


def send_newsletter() -> None:
    """Mail the newsletter to every customer who has not opted out."""
    from .views import UNSUBSCRIBE_SALT

    event_type = _event_type(
        "NEWSLETTER",
        "New in the shop this week",
        "Hello {{ user.first_name }}, see what is new.\nUnsubscribe: {{ unsubscribe_url }}\n",
    )
    subscribed = Profile.objects.filter(marketing_opt_in=True, user__is_active=True)
    for profile in subscribed.select_related("user"):
        token = signing.dumps(profile.user_id, salt=UNSUBSCRIBE_SALT)
        url = f"{SITE}/privacy/unsubscribe/{token}/"
        messages = event_type.get_messages({"user": profile.user, "unsubscribe_url": url})
        EmailMultiAlternatives(
            messages["subject"],
            messages["body"],
            to=[profile.user.email],
            headers={"List-Unsubscribe": f"<{url}>", "X-Mail-Category": "newsletter"},
        ).send()


def send_dispatch_notice(user: object) -> None:
    """Tell a customer their order is on its way (Oscar records the mail it sends)."""
    event_type = _event_type(
        "ORDER_DISPATCHED", "Your order is on its way", "Hello {{ user.first_name }}, it shipped."
    )
    Dispatcher().dispatch_user_messages(user, event_type.get_messages({"user": user}))
