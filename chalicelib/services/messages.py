"""Patient messages from templates that are data (chalicelib/templates/messages.json).

Only what the patient needs to show up: the time (in the zone of the visit), the clinic's name or
"video visit"/"phone visit", the join link for video, and the links. Nothing about the care itself.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.model import Patient
from ..domain.ports import Sender, SendFailed

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "messages.json"
DEFAULT_LANGUAGE = "en"
PLACEHOLDERS = frozenset({"time", "place", "join", "join_link", "confirm_link", "decline_link", "expires"})
KEYS = ("time_format", "place_video", "place_phone", "join", "reminder_sms", "reminder_email_subject",
        "reminder_email_body", "offer_sms", "offer_email_subject", "offer_email_body",
        "released_sms", "released_email_subject", "released_email_body")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


@cache
def templates() -> dict[str, dict[str, str]]:
    data: dict[str, Any] = json.loads(TEMPLATES.read_text(encoding="utf-8"))
    languages = {k: v for k, v in data.items() if not k.startswith("_")}
    for language, table in languages.items():
        missing = [k for k in KEYS if k not in table]
        if missing:
            raise ValueError(f"templates[{language}] lacks {missing}")
        for key, text in table.items():
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            if key != "time_format" and not names <= PLACEHOLDERS:
                raise ValueError(f"templates[{language}][{key}] uses {sorted(names - PLACEHOLDERS)}")
    return languages


def language_of(preferred: str | None) -> str:
    base = (preferred or "").split("-")[0].lower()
    return base if base in templates() else DEFAULT_LANGUAGE


def local_time(moment: datetime, zone: str, language: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime(templates()[language]["time_format"])


def place_of(modality: str, site_name: str | None, language: str) -> str:
    if modality == "in_person" and site_name:
        return site_name
    return templates()[language]["place_video" if modality == "video" else "place_phone"]


def render(kind: str, channel: str, language: str, values: dict[str, str]) -> Message:
    """kind: reminder | offer | released; channel: sms | email."""
    table = templates()[language]
    join = table["join"].format(**values) if values.get("join_link") else ""
    filled = {k: "" for k in PLACEHOLDERS} | values | {"join": join}
    if channel == "sms":
        return Message("", table[f"{kind}_sms"].format(**filled))
    return Message(table[f"{kind}_email_subject"].format(**filled), table[f"{kind}_email_body"].format(**filled))


def destination(patient: Patient, channel: str) -> str | None:
    return patient.phone if channel == "sms" else patient.email


def deliver(sender: Sender, channel: str, to: str, message: Message) -> str:
    """One message on one channel (sms | email); the provider's message id."""
    if channel == "sms":
        return sender.sms(to, message.text)
    return sender.email(to, message.subject, message.text)


def notify(sender: Sender, patient: Patient, channels: tuple[str, ...], kind: str, language: str,
           values: dict[str, str]) -> int:
    """Template `kind` on each channel the patient has a destination for; a failed send is skipped (the change
    it tells of stands). Returns how many went out."""
    sent = 0
    for channel in channels:
        to = destination(patient, channel)
        if not to:
            continue
        try:
            deliver(sender, channel, to, render(kind, channel, language, values))
        except SendFailed:
            continue
        sent += 1
    return sent
