"""Which archived lot or tariff version was in force at an instant (``shared.archive.registry.History``)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.archive.registry import History, record_of_image


def _lot(version: int, at: str | None = None) -> dict:
    r = {"record": "lot", "id": "a", "version": version, "doc": {"tariff_ref": f"t{version}"}}
    return {**r, "at": at} if at else r


def _history(*records: dict) -> History:
    return History(records, lambda r: r["doc"]["tariff_ref"])


def test_each_version_is_in_force_from_when_it_was_stored():
    h = _history(_lot(3, "2026-11-20T10:00:00+08:00"), _lot(1, "2026-11-01T00:00:00+08:00"),
                 _lot(2, "2026-11-10T00:00:00+08:00"))  # fmt: skip  (archive order is no order)
    assert h.at("lot", "a", "2026-11-05T12:00:00+08:00") == "t1"
    assert h.at("lot", "a", "2026-11-10T00:00:00+08:00") == "t2"  # stored at that instant: in force
    assert h.at("lot", "a", datetime(2026, 11, 20, 1, 59, 59, tzinfo=UTC)) == "t2"  # 09:59:59 in Shanghai
    assert h.at("lot", "a", "2026-11-20T02:00:00+00:00") == "t3"
    assert h.at("lot", "a", "2026-10-01T00:00:00+08:00") == "t1"  # before every version: the oldest
    assert h.at("lot", "a", None) == "t3" and h.newest("lot") == {"a": "t3"}
    assert h.at("lot", "b", "2026-11-05T12:00:00+08:00") is None and h.at("tariff", "a", None) is None


def test_versions_stored_before_they_were_stamped_count_from_the_start():
    h = _history(_lot(1), _lot(2, "2026-11-10T00:00:00+08:00"), _lot(2, "2026-11-10T00:00:00+08:00"))  # twice
    assert h.at("lot", "a", "2026-11-01T00:00:00+08:00") == "t1"
    assert h.at("lot", "a", "2026-11-11T00:00:00+08:00") == "t2"
    assert _history(_lot(1), _lot(2)).at("lot", "a", "2026-11-01T00:00:00+08:00") == "t2"  # no times: newest


def test_the_stream_image_carries_when_the_version_was_stored():
    image = {"lot_id": "a", "version": 2, "doc": '{"lot_id": "a"}', "stored_at": "2026-11-10T00:00:00+08:00"}
    assert record_of_image("lots", image)["at"] == "2026-11-10T00:00:00+08:00"
    assert "at" not in record_of_image("lots", {k: v for k, v in image.items() if k != "stored_at"})
