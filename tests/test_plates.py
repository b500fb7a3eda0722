"""Plate rules, run without any infrastructure."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import plates

SERIAL = "ABCDEFGHJKLMNPQRTUVWXY0123456789"


@pytest.mark.parametrize("raw", ["苏B12345", "苏BD12345", "苏b·12345", "B12345", "苏B1234学"])
def test_valid_plates_parse(raw):
    assert plates.parse(raw).text


@pytest.mark.parametrize("raw", ["", "苏", "苏B1", "苏B1234567", "HELLO!", "苏B12 34 5 6 7", "X苏B12345"])
def test_malformed_plates_are_refused(raw):
    with pytest.raises(plates.MalformedPlate):
        plates.parse(raw)


def test_confusable_reads_match_and_other_reads_do_not():
    p = plates.Plate
    assert plates.fuzzy_equal(p("苏B8O125"), p("苏BB0I25"))
    assert plates.fuzzy_equal(p("B12345"), p("苏B12345"))
    assert not plates.fuzzy_equal(p("苏B12345"), p("苏B12346"))
    assert not plates.fuzzy_equal(p("浙B12345"), p("苏B12345"))


def test_ambiguity_is_no_match():
    p = plates.Plate
    assert plates.best_match(p("苏B123O5"), [p("苏B12305"), p("苏B123D5")]) is None
    assert plates.best_match(p("苏B12305"), [p("苏B12305"), p("苏B123D5")])[1] is plates.MatchKind.EXACT


def test_mask_hides_the_serial():
    assert plates.mask("苏B12345") == "苏B****5"


@given(st.text(alphabet=SERIAL, min_size=5, max_size=5))
def test_every_plate_matches_itself_exactly(serial):
    plate = plates.parse("苏A" + serial)
    assert plates.best_match(plate, [plate]) == (plate, plates.MatchKind.EXACT)


@given(st.text(alphabet=SERIAL, min_size=5, max_size=5), st.text(alphabet=SERIAL, min_size=5, max_size=5))
def test_fuzzy_equality_is_symmetric(a, b):
    pa, pb = plates.parse("苏A" + a), plates.parse("苏A" + b)
    assert plates.fuzzy_equal(pa, pb) == plates.fuzzy_equal(pb, pa)
