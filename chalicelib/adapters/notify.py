"""Patient messages out: SMS through Amazon SNS, email through Amazon SES v2 (moto locally).

Clients are made on the first send, once per process. Errors come back as a short code, never the
provider's text (it can echo the destination). On the local stage every message sent is also put in
LOCAL_OUTBOX, which `make run` prints (local/background.py).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..domain.ports import SendFailed
from ..settings import Settings

LOCAL_OUTBOX: deque[dict[str, str]] = deque(maxlen=200)

__all__ = ["LOCAL_OUTBOX", "Notifier", "SendFailed"]


class Notifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sns: Any = None
        self._ses: Any = None
        self._sender_ready = False

    def sms(self, phone: str, text: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._sns is None:
            import boto3

            self._sns = boto3.client("sns", region_name=self.settings.region, endpoint_url=self.settings.sns_endpoint)
        try:
            answer = self._sns.publish(PhoneNumber=_e164(phone), Message=text, MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
        except ClientError as exc:
            raise SendFailed(exc.response.get("Error", {}).get("Code", "ClientError")) from exc
        except BotoCoreError as exc:
            raise SendFailed(type(exc).__name__) from exc
        self._outbox("sms", phone, text)
        return str(answer["MessageId"])

    def email(self, to: str, subject: str, body: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._ses is None:
            import boto3

            self._ses = boto3.client("sesv2", region_name=self.settings.region,
                                     endpoint_url=self.settings.ses_endpoint)
        try:
            if self.settings.is_local and not self._sender_ready:
                self._ses.create_email_identity(EmailIdentity=self.settings.reminder_from)  # moto wants it verified
                self._sender_ready = True
            answer = self._ses.send_email(
                FromEmailAddress=self.settings.reminder_from, Destination={"ToAddresses": [to]},
                Content={"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "AlreadyExistsException":
                self._sender_ready = True
                return self.email(to, subject, body)
            raise SendFailed(exc.response.get("Error", {}).get("Code", "ClientError")) from exc
        except BotoCoreError as exc:
            raise SendFailed(type(exc).__name__) from exc
        self._outbox("email", to, f"{subject} | {body}")
        return str(answer["MessageId"])

    def _outbox(self, channel: str, to: str, text: str) -> None:
        if self.settings.is_local:
            LOCAL_OUTBOX.append({"channel": channel, "to": to, "text": text})


def _e164(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return f"+{digits}"
