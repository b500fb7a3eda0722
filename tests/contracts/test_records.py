"""The contracts of the versioned record stores (registry, tariffs, accounts, arrears cases, disputes) and
of the pay-later task tokens, on both adapters."""

from __future__ import annotations

import pytest

from shared.arrears.model import ArrearsCase
from shared.bills.dispute_model import Dispute, DisputeReason
from shared.citizens.model import Account
from shared.errors import Conflict, NotFound
from shared.registry.model import Device, Lot, Operator
from tests.contracts.records import T0


def _operator(op: str, district: str = "320213") -> Operator:
    return Operator.model_validate({
        "operator_id": op, "name": op, "credit_code": "91320200MA1XXXXX0A", "ownership": "state_owned",
        "district_code": district, "payout_account_ref": f"acct_{op}"})  # fmt: skip


def test_a_record_is_created_once(stores, uid):
    op = stores.operators.create(_operator(f"op-{uid}"))
    assert op.version == 1 and stores.operators.get(op.operator_id) == op
    with pytest.raises(Conflict) as err:
        stores.operators.create(_operator(f"op-{uid}"))
    assert err.value.code == "already_exists"


def test_a_record_is_replaced_only_from_its_current_version(stores, uid):
    op = stores.operators.create(_operator(f"op-{uid}"))
    v2 = stores.operators.replace(op.model_copy(update={"name": "renamed"}), expected_version=1)
    assert v2.version == 2 and stores.operators.require(op.operator_id).name == "renamed"
    with pytest.raises(Conflict) as err:
        stores.operators.replace(op.model_copy(update={"name": "stale"}), expected_version=1)
    assert (err.value.code, err.value.details.get("current_version")) == ("version_conflict", 2)
    with pytest.raises(NotFound) as missing:
        stores.operators.replace(_operator(f"ghost-{uid}"), expected_version=1)
    assert missing.value.code == "unknown_operator"


def test_lots_are_listed_by_district_and_operator(stores, uid):
    district = "320205"  # the DynamoDB half shares the table: others' lots may be listed too
    for i, op in ((1, f"op-a-{uid}"), (2, f"op-b-{uid}")):
        stores.lots.create(Lot.model_validate({
            "lot_id": f"lot{i}-{uid}", "name": "x", "district_code": district, "operator_id": op, "kind": "enclosed",
            "capacity": 10, "location": {"lat": 31.5, "lon": 120.3}}))  # fmt: skip
    assert {f"lot1-{uid}", f"lot2-{uid}"} <= {lot.lot_id for lot in stores.lots.list(district_code=district)}
    assert not any(lot.lot_id.endswith(uid) for lot in stores.lots.list(district_code="320206"))
    assert [lot.lot_id for lot in stores.lots.list(operator_id=f"op-b-{uid}")] == [f"lot2-{uid}"]


def test_a_device_is_stored_with_its_sealed_secret_and_the_vault_opens_it_for_that_device(stores, uid):
    device = Device.model_validate({"device_id": f"cam-{uid}", "kind": "gate_camera", "lot_id": f"lot-{uid}",
                                    "lane": "in-1", "district_code": "320213"})  # fmt: skip
    sealed = stores.vault.seal(device.device_id, "s3cret")
    assert "s3cret" not in sealed
    stores.devices.create(device, secret_ciphertext=sealed)
    stored, ciphertext = stores.devices.require_with_secret(device.device_id)
    assert stored.device_id == device.device_id and stores.vault.reveal(device.device_id, ciphertext) == "s3cret"
    assert [d.device_id for d in stores.devices.list(lot_id=f"lot-{uid}")] == [device.device_id]
    with pytest.raises(Exception):
        stores.vault.reveal(f"other-{uid}", ciphertext)


def test_accounts_are_versioned_and_a_plate_has_one_owner(stores, uid):
    accounts, plate = stores.accounts, f"苏E{uid[:5]}"
    account = Account(account_id=f"acc-{uid}", created_at=T0)
    assert accounts.save(account) and not accounts.save(account)
    assert accounts.save(account.bumped(plates=[plate])) and not accounts.save(account.bumped(plates=[]))
    assert accounts.claim_plate(plate, f"acc-{uid}") and accounts.claim_plate(plate, f"acc-{uid}")
    assert not accounts.claim_plate(plate, f"other-{uid}")
    accounts.release_plate(plate, f"other-{uid}")  # not theirs: left alone
    assert accounts.owner_of(plate) == f"acc-{uid}"
    accounts.release_plate(plate, f"acc-{uid}")
    assert accounts.owner_of(plate) is None and accounts.claim_plate(plate, f"other-{uid}")


def test_arrears_cases_are_versioned_and_queued(stores, uid):
    case = ArrearsCase(case_id=f"case-{uid}", bill_id=f"b-{uid}", session_id="s", plate=f"苏F{uid[:5]}",
                       lot_id="lot", operator_id=f"op-{uid}", district_code="320213", amount_fen=600, opened_at=T0)
    assert stores.arrears.save(case) and not stores.arrears.save(case)
    assert stores.arrears.save(case.bumped(flagged=True)) and not stores.arrears.save(case.bumped(suspended=True))
    assert stores.arrears.get(case.case_id).flagged
    assert [c.case_id for c in stores.arrears.of_plate(case.plate)] == [case.case_id]
    assert [c.case_id for c in stores.arrears.of_operator(f"op-{uid}")] == [case.case_id]
    assert case.case_id in {c.case_id for c in stores.arrears.of_district("320213")}


def test_disputes_are_versioned_and_listed_per_district(stores, uid):
    district = f"8{uid[:5].replace('-', '0'):0<5}"
    dispute = Dispute(bill_id=f"b-{uid}", district_code=district, operator_id="op", account_id="acc",
                      reason=DisputeReason.MISREAD_PLATE, opened_at=T0)  # fmt: skip
    assert stores.disputes.save(dispute) and not stores.disputes.save(dispute)
    decided = dispute.model_copy(update={"decision": "upheld", "version": 2})
    assert stores.disputes.save(decided) and not stores.disputes.save(decided)
    assert [d.decision for d in stores.disputes.of_district(district)] == ["upheld"]


def test_a_bill_keeps_one_pay_later_token(stores, uid):
    tokens = stores.pay_later_tokens
    assert tokens.get(f"b-{uid}") is None
    tokens.keep(f"b-{uid}", "t1", T0.isoformat())
    tokens.keep(f"b-{uid}", "t2", T0.isoformat())
    assert tokens.get(f"b-{uid}") == "t2"
    tokens.forget(f"b-{uid}")
    tokens.forget(f"b-{uid}")
    assert tokens.get(f"b-{uid}") is None


def test_registered_tariffs_are_versioned_records_listed_by_district(stores, uid):
    from shared.tariffs.registry import RegisteredTariff
    from shared.tariffs.samples import ZHUMADIAN_CLASS1

    record = RegisteredTariff(tariff_id=f"t-{uid}", district_code="320211", tariff=ZHUMADIAN_CLASS1)
    stored = stores.tariffs.create(record)
    assert stored.version == 1 and stores.tariffs.get(record.tariff_id) == stored
    with pytest.raises(Conflict):
        stores.tariffs.create(record)
    assert stores.tariffs.replace(stored, expected_version=1).version == 2
    with pytest.raises(Conflict):
        stores.tariffs.replace(stored, expected_version=1)
    assert stores.tariffs.cached(f"never-{uid}") is None
    assert record.tariff_id in {t.tariff_id for t in stores.tariffs.list("320211")}
    assert record.tariff_id not in {t.tariff_id for t in stores.tariffs.list("320214")}


def test_plate_challenges_and_setups_are_kept_per_account(stores, uid):
    from shared.citizens.model import PlateChallenge

    accounts, plate = stores.accounts, f"苏G{uid[:5]}"
    challenge = PlateChallenge(account_id=f"acc-{uid}", plate=plate, code_hash="h", expires_at=T0)
    assert accounts.save_challenges([challenge])
    assert accounts.save_challenges([challenge.bumped(attempts=1)])
    assert accounts.challenge(f"acc-{uid}", plate).attempts == 1 and accounts.challenge(f"other-{uid}", plate) is None
    accounts.drop_challenge(f"acc-{uid}", plate)
    assert accounts.challenge(f"acc-{uid}", plate) is None
    accounts.remember_setup(f"seti-{uid}", f"acc-{uid}")
    assert accounts.account_of_setup(f"seti-{uid}") == f"acc-{uid}" and accounts.account_of_setup(f"x-{uid}") is None


def test_plate_rate_counters_are_written_at_their_version_all_or_nothing(stores, uid):
    """Two requests that read the same counters cannot both write them: the second is refused whole."""
    from shared.citizens.model import PlateChallenge

    accounts, plate = stores.accounts, f"苏H{uid[:5]}"
    challenge = PlateChallenge(account_id=f"acc-{uid}", plate=plate, code_hash="h", expires_at=T0, sent=[T0])
    per_plate = PlateChallenge(account_id="*", plate=plate, code_hash="", expires_at=T0, sent=[T0])
    assert accounts.save_challenges([challenge, per_plate])
    assert not accounts.save_challenges([challenge])  # version 1 again: it exists
    first = [challenge.bumped(sent=[T0, T0]), per_plate.bumped(sent=[T0, T0])]
    racer = [challenge.bumped(code_hash="other", sent=[T0, T0]), per_plate.bumped(sent=[T0, T0])]
    assert accounts.save_challenges(first)
    assert not accounts.save_challenges(racer)  # read version 1, which is gone
    assert accounts.challenge(f"acc-{uid}", plate).code_hash == "h" and accounts.challenge("*", plate).version == 2
    # all or nothing: a stale counter beside a fresh record leaves both as they were
    fresh = PlateChallenge(account_id=f"acc-{uid}", plate=f"{plate}X", code_hash="h", expires_at=T0)
    assert not accounts.save_challenges([fresh, per_plate.bumped(sent=[])])
    assert accounts.challenge(f"acc-{uid}", f"{plate}X") is None and len(accounts.challenge("*", plate).sent) == 2
