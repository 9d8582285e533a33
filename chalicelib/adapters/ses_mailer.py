"""Mail through Amazon SES, v1 API (``ses``): LocalStack community has no SES v2."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.mail import MailMessage
from chalicelib.errors import MailDeliveryError
from chalicelib.mail.render import render

log = logging.getLogger(__name__)


class SesMailer:
    def __init__(self, client: Any, *, sender: str, configuration_set: str | None = None) -> None:
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, message: MailMessage) -> str:
        rendered = render(message)
        request: dict[str, Any] = {
            "Source": self._sender,
            "Destination": {"ToAddresses": [message.to]},
            "Message": {
                "Subject": {"Data": rendered.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": rendered.text, "Charset": "UTF-8"},
                    "Html": {"Data": rendered.html, "Charset": "UTF-8"},
                },
            },
            "Tags": [{"Name": "template", "Value": message.template}],
        }
        if message.reply_to:
            request["ReplyToAddresses"] = [message.reply_to]
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)
        except (ClientError, BotoCoreError) as exc:
            log.warning("SES refused a %s mail: %s", message.template, type(exc).__name__)
            raise MailDeliveryError(message.template) from exc
        return str(response["MessageId"])
