"""Request bodies of the video routes beyond join (which shares the check-in body)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from .common import Body

GuestRole = Literal["interpreter", "guardian", "supervisor"]
InvitationToken = Annotated[str, StringConstraints(min_length=20, max_length=400, pattern=r"^[A-Za-z0-9_=.-]+$")]


class VideoInvitationIn(Body):
    role: GuestRole


class VideoInvitationJoinIn(Body):
    token: InvitationToken
