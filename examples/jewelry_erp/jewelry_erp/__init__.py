"""A small jewelry ERP module: the reference the privacy suite is demonstrated on."""

from .mailing import MailingClient
from .service import ErpService

__all__ = ["ErpService", "MailingClient"]
