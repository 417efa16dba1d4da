"""State names: treaty spellings resolve silently, guesses warn, ambiguity and unknowns raise."""

from __future__ import annotations

import pytest

from tracker.aliases import Ambiguous, UnknownState, display_name, resolve

TREATY_SPELLINGS = [
    ("Lao PDR", "LAO"),
    ("Lao People's Democratic Republic", "LAO"),
    ("Laos", "LAO"),
    ("LAO", "LAO"),
    ("lao", "LAO"),
    ("Holy See", "VAT"),
    ("Vatican", "VAT"),
    ("State of Palestine", "PSE"),
    ("Palestine", "PSE"),
    ("Republic of Moldova", "MDA"),
    ("Moldova", "MDA"),
    ("the Kingdom of the Netherlands", "NLD"),
    ("Netherlands", "NLD"),
    ("Türkiye", "TUR"),
    ("Turkiye", "TUR"),
    ("Turkey", "TUR"),
    ("São Tomé and Príncipe", "STP"),
    ("Sao Tome and Principe", "STP"),
    ("Côte d'Ivoire", "CIV"),
    ("Cote d’Ivoire", "CIV"),
    ("Ivory Coast", "CIV"),
    ("Cabo Verde", "CPV"),
    ("Cape Verde", "CPV"),
    ("Bosnia", "BIH"),
    ("Bosnia and Herzegovina", "BIH"),
    ("DR Congo", "COD"),
    ("Democratic Republic of the Congo", "COD"),
    ("Democratic Republic of Congo", "COD"),
    ("Congo", "COG"),
    ("Eswatini", "SWZ"),
    ("North Macedonia", "MKD"),
    ("UK", "GBR"),
    ("United Kingdom", "GBR"),
    ("the United Kingdom", "GBR"),
    ("USA", "USA"),
    ("Guinea", "GIN"),
    ("Guinea-Bissau", "GNB"),
    ("Sudan", "SDN"),
    ("South Sudan", "SSD"),
    ("Niger", "NER"),
    ("Nigeria", "NGA"),
    ("Czech Republic", "CZE"),
    ("Czechia", "CZE"),
    ("Bolivia", "BOL"),
    ("Saint Kitts and Nevis", "KNA"),
    ("St. Kitts and Nevis", "KNA"),
    ("United Republic of Tanzania", "TZA"),
    ("  lao pdr  ", "LAO"),
    ("LAO PDR", "LAO"),
]


@pytest.mark.parametrize(("name", "iso3"), TREATY_SPELLINGS)
def test_treaty_and_common_spellings_resolve_without_warning(name: str, iso3: str) -> None:
    found = resolve(name)
    assert found.iso3 == iso3
    assert found.warning is None
    assert found.matched_alias


def test_resolution_carries_the_treaty_display_name() -> None:
    found = resolve("Lao People's Democratic Republic")
    assert found.name == "Lao PDR"
    assert found.matched_alias == "Lao People's Democratic Republic"
    assert resolve("the Kingdom of the Netherlands").name == "Netherlands"
    assert resolve("Congo").name == "Congo"
    assert resolve("DR Congo").name == "Democratic Republic of the Congo"


@pytest.mark.parametrize(
    ("name", "iso3", "display"),
    [
        ("Slovakai", "SVK", "Slovakia"),
        ("State of Pelestine", "PSE", "State of Palestine"),
        ("Netherland", "NLD", "Netherlands"),
        ("Bosn", "BIH", "Bosnia and Herzegovina"),
        ("Mauritanía", "MRT", "Mauritania"),  # accent only: exact, see below
    ],
)
def test_close_misspellings_resolve_with_a_warning(name: str, iso3: str, display: str) -> None:
    found = resolve(name)
    assert found.iso3 == iso3
    if name == "Mauritanía":
        assert found.warning is None  # accents are ignored, not guessed
        return
    assert found.warning == f"'{name}' read as {display} ({iso3}) — check the spelling"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Korea", {"KOR", "PRK"}),
        ("Guinea-", {"GIN", "GNB"}),
        ("Nigera", {"NER", "NGA"}),
        ("Austrai", {"AUS", "AUT"}),
        ("Virgin Islands", {"VGB", "VIR"}),
        ("Mal", {"MWI", "MYS", "MDV", "MLI", "MLT"}),
    ],
)
def test_ambiguous_input_lists_the_candidates(name: str, expected: set[str]) -> None:
    with pytest.raises(Ambiguous) as caught:
        resolve(name)
    assert {c.iso3 for c in caught.value.candidates} == expected
    assert all(c.name for c in caught.value.candidates)
    assert repr(name) in str(caught.value)


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(UnknownState) as caught:
        resolve("Narnia")
    message = str(caught.value)
    assert message.startswith("'Narnia' is not a known State (nearest: ")
    assert caught.value.candidates


def test_empty_or_hopeless_input_is_unknown() -> None:
    with pytest.raises(UnknownState, match="alpha-3 code"):
        resolve("   ")
    with pytest.raises(UnknownState):
        resolve("xq")


def test_errors_are_value_errors_so_callers_can_catch_one_thing() -> None:
    with pytest.raises(ValueError):
        resolve("Narnia")
    with pytest.raises(ValueError):
        resolve("Korea")


def test_display_name() -> None:
    assert display_name("LAO") == "Lao PDR"
    assert display_name("lao") == "Lao PDR"
    assert display_name("VAT") == "Holy See"
    assert display_name("PSE") == "State of Palestine"
    assert display_name("KOR") == "Republic of Korea"
    assert display_name("VNM") == "Viet Nam"
    with pytest.raises(UnknownState):
        display_name("XXX")


def test_every_ccm_state_in_the_membership_table_resolves_to_its_code() -> None:
    import csv
    from importlib import resources

    text = (
        resources.files("tracker.data.ccm")
        .joinpath("sources/ccm-states.csv")
        .read_text(encoding="utf-8")
    )
    for row in csv.DictReader(text.splitlines()):
        found = resolve(row["state_name"])
        assert (found.iso3, found.warning) == (row["iso3"], None), row["state_name"]
