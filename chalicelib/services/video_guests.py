"""More than two people in a video visit: an interpreter, a guardian (for a minor) or a supervising
clinician, invited by the visit's clinician with a single-use link.

The link is `<locator>.<secret>`: the locator names the tenant, visit and invitation (opaque ids, no
PHI); only a SHA-256 of the secret is stored. A link works once, until the visit's end, and only while
the visit is joinable; a used, expired, forged or foreign link is 404, as if it did not exist. Each
guest is an attendee with its role (ExternalUserId `interpreter-...`), waits with the patient until
admission, and every invitation and guest join is audited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Protocol

from ..domain.access import Caller
from ..domain.errors import DomainError, NotFound
from ..domain.meeting_state import MeetingState
from ..domain.model import Appointment, Patient
from .video import Joined, VideoService

ADULT_AGE = 18


class PatientDirectory(Protocol):
    def get_patient(self, tenant: str, patient_id: str) -> Patient | None: ...


class GuardianNotNeeded(DomainError):
    code = "GUARDIAN_NOT_FOR_ADULT"
    status = 422
    title = "A guardian is invited only for a patient who is a minor"


class VideoGuests:
    def __init__(self, video: VideoService, directory: PatientDirectory) -> None:
        self.video = video
        self.directory = directory

    def invite(self, caller: Caller, appointment_id: str, role: str) -> dict[str, Any]:
        appointment = self.video._participant_view(caller, appointment_id)
        self.video._require_open(appointment)
        if role == "guardian" and not self._minor(appointment):
            raise GuardianNotNeeded("The patient is an adult on the day of the visit.")
        invitation_id = self.video.new_id("inv")
        secret = secrets.token_urlsafe(24)
        guest = {"role": role, "token_hash": _digest(secret), "expires_at": _z(appointment.end), "used_at": None,
                 "attendee_id": None, "invited_by": caller.sub}

        def add(state: MeetingState) -> MeetingState:
            return replace(state, guests={**state.guests, invitation_id: guest})

        self.video._save_state(caller.tenant_id, appointment_id, add)
        self.video.audit.record(caller, f"video.invite.{role}", f"appointment/{appointment_id}",
                                appointment.patient_id, "success")
        token = f"{_locator(appointment.tenant_id, appointment_id, invitation_id)}.{secret}"
        return {"invitation_id": invitation_id, "role": role, "token": token, "expires_at": guest["expires_at"],
                "join": {"method": "POST", "path": "/v1/video/invitations/join", "body": {"token": token}}}

    def join(self, token: str) -> tuple[Joined, str]:
        """Join with the link: the guest's attendee, and its role. Each link answers once."""
        tenant, appointment_id, invitation_id, secret = _parse(token)
        appointment = self.video.appointments.get(tenant, appointment_id)
        guest = MeetingState.from_doc(appointment.video).guests.get(invitation_id) if appointment else None
        if appointment is None or guest is None or not self._usable(guest, secret):
            raise NotFound("No such invitation.")
        role = str(guest["role"])
        self.video._require_joinable(appointment)
        caller = Caller(f"invitation:{invitation_id}", tenant, frozenset({role}))
        joined = self.video.enter_as(caller, appointment, f"{role}.{invitation_id}")

        def use(state: MeetingState) -> MeetingState:
            current = state.guests.get(invitation_id)
            if current is None or current.get("used_at"):
                raise NotFound("No such invitation.")  # a concurrent use won
            used = {**current, "used_at": _z(self.video.clock()), "attendee_id": joined.attendee.attendee_id}
            return replace(state, guests={**state.guests, invitation_id: used})

        self.video._save_state(tenant, appointment_id, use)
        self.video.audit.record(caller, f"video.guest_join.{role}", f"appointment/{appointment_id}",
                                appointment.patient_id, "success")
        return joined, role

    def _usable(self, guest: dict[str, Any], secret: str) -> bool:
        if not hmac.compare_digest(str(guest.get("token_hash", "")), _digest(secret)):
            return False
        if guest.get("used_at"):
            return False
        expires = datetime.fromisoformat(str(guest["expires_at"]).replace("Z", "+00:00"))
        return self.video.clock() <= expires

    def _minor(self, appointment: Appointment) -> bool:
        patient = self.directory.get_patient(appointment.tenant_id, appointment.patient_id)
        if patient is None:
            return False
        return _age_on(patient.birth_date, appointment.start.date()) < ADULT_AGE


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _locator(tenant: str, appointment_id: str, invitation_id: str) -> str:
    raw = json.dumps([tenant, appointment_id, invitation_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse(token: str) -> tuple[str, str, str, str]:
    locator, _, secret = token.rpartition(".")
    try:
        padded = locator + "=" * (-len(locator) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise NotFound("No such invitation.") from None
    if not (isinstance(parts, list) and len(parts) == 3 and all(isinstance(p, str) and p for p in parts) and secret):
        raise NotFound("No such invitation.")
    return parts[0], parts[1], parts[2], secret


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
