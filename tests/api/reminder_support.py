"""What moto's SNS and SES received, per destination; patients with a phone and email of their own."""

from __future__ import annotations

import random
import re
from typing import Any

from tests.support import patient_body

ACCOUNT, REGION = "123456789012", "us-east-1"


def unique_patient(scheduler: Any, tenant: str, name: str = "Pat Example", **extra: Any) -> dict[str, Any]:
    digits = "".join(random.choice("0123456789") for _ in range(7))  # a test phone number
    body = patient_body(name, phone=f"+1 917 {digits}", email=f"{name.split()[0].lower()}.{digits}@{tenant}.example",
                        **extra)
    r = scheduler.post("/v1/patients", body)
    assert r.status == 201, r.json
    return {**r.json, "phone_e164": "+1917" + digits}


def sms_to(phone_e164: str) -> list[str]:
    from moto.sns.models import sns_backends

    return [text for number, text in sns_backends[ACCOUNT][REGION].sms_messages.values() if number == phone_e164]


def emails_to(address: str) -> list[Any]:
    from moto.ses.models import ses_backends

    return [m for m in ses_backends[ACCOUNT][REGION].sent_messages
            if address in (getattr(m, "destinations", {}) or {}).get("ToAddresses", [])]


def link_token(text: str, action: str) -> str:
    found = re.search(rf"/{action}\?token=(\S+)", text)
    assert found, text
    return found.group(1)
