"""Events other systems act on (crisis escalations), published to Amazon SNS. No PHI in a message:
ids, risk level, times; the on-call clinician reads the rest through the audited API."""

from __future__ import annotations

import json
from typing import Any

from ..settings import Settings

LOCAL_TOPIC = "hco-escalations"


class SnsEvents:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None
        self._topic: str | None = settings.escalation_topic_arn

    def _sns(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sns", region_name=self.settings.region,
                                        endpoint_url=self.settings.sns_endpoint)
        return self._client

    def topic_arn(self) -> str:
        if self._topic is None:
            if not self.settings.is_local:
                raise RuntimeError("HCO_ESCALATION_TOPIC_ARN is not set on a deployed stage")
            self._topic = str(self._sns().create_topic(Name=LOCAL_TOPIC)["TopicArn"])  # idempotent in SNS
        return self._topic

    def publish(self, event_type: str, body: dict[str, Any]) -> str:
        answer = self._sns().publish(TopicArn=self.topic_arn(), Message=json.dumps({"type": event_type, **body}),
                                     MessageAttributes={"type": {"DataType": "String", "StringValue": event_type}})
        return str(answer["MessageId"])
