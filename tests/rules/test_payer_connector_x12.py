"""A payer's rules entry may carry its clearinghouse's envelope settings (connector.x12)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.domain.payer_policy import X12Partner
from chalicelib.rules.payer_compile import compile_payer_policies
from chalicelib.rules.payer_schema import PayerPolicyFile

pytestmark = pytest.mark.unit


def _file(connector: dict) -> dict:
    return {"kind": "payer_policy", "version": "2026.12.1", "checked_on": "2026-12-02", "review_by": "2027-06-30",
            "description": "test", "rules": [{
                "id": "payer-nw-2026", "payer_id": "northwind", "name": "Northwind Health", "source": "test",
                "effective_from": "2026-01-01", "connector": connector,
                "telehealth": {"video": {"covered": True}, "phone": {"covered": True},
                               "modifiers": {"video": ["95"], "phone": ["93"]}}}]}


def test_connector_x12_settings_compile_into_the_partner():
    doc = PayerPolicyFile.model_validate(_file({
        "kind": "x12_http", "url": "https://clearinghouse.example/x12",
        "x12": {"receiver_id": "CLEARHOUSE", "receiver_qualifier": "01", "character_set": "extended"}}))

    [entry] = compile_payer_policies([doc]).entries

    assert entry.connector.x12 == X12Partner(receiver_id="CLEARHOUSE", receiver_qualifier="01",
                                             character_set="extended")


def test_a_connector_without_x12_settings_keeps_the_defaults():
    [entry] = compile_payer_policies([PayerPolicyFile.model_validate(_file({"kind": "roster"}))]).entries

    assert entry.connector.x12 == X12Partner()


@pytest.mark.parametrize("bad", [{"receiver_id": "CLEAR*HOUSE"}, {"receiver_qualifier": "zz"},
                                 {"character_set": "utf8"}, {"usage_indicator": "X"}])
def test_bad_envelope_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        PayerPolicyFile.model_validate(_file({"kind": "x12_http", "url": "https://c.example/x12", "x12": bad}))
