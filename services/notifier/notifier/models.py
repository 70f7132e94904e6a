"""Every model of the notifier, so that the metadata is complete wherever it is needed."""

from notifier.deliveries.models import Delivery, DeliveryEvent, HeldReceipt
from notifier.endpoints.models import WebhookEndpoint
from notifier.jobs.models import Job
from notifier.notifications.models import Notification
from notifier.recipients.models import Recipient
from notifier.robots.models import ChatRobot
from notifier.rules.models import Rule
from notifier.templates.models import Template

__all__ = [
    "ChatRobot",
    "Delivery",
    "DeliveryEvent",
    "HeldReceipt",
    "Job",
    "Notification",
    "Recipient",
    "Rule",
    "Template",
    "WebhookEndpoint",
]
