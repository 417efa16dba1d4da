"""State names as people and treaty documents write them, resolved to ISO 3166-1 alpha-3 codes.

One alias table, built once from pycountry (short, official and common names, alpha-3 codes) plus
the spellings the Convention's own documents use ("Lao PDR", "the Kingdom of the Netherlands",
"State of Palestine", "Congo" for the Republic of the Congo …). Lookups ignore case, accents and
punctuation. A shortened name that fits one State only ("Bosnia", "Lao") resolves; a close
misspelling ("Slovakai") resolves *with a warning* naming what was read, never silently; input
that fits several States raises `Ambiguous` (so a front end can offer one button per
candidate); anything else raises `UnknownState` with the nearest names.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import pycountry

__all__ = [
    "Ambiguous",
    "Candidate",
    "Resolution",
    "StateLookupError",
    "UnknownState",
    "display_name",
    "resolve",
]

# --- the treaty's own names -----------------------------------------------------------------

#: Display names as the Convention's documents (UNTC status list, ISU progress reports) write
#: them, where they differ from pycountry's short name. pycountry's "Korea, Republic of" style
#: reads badly in a sentence, and the treaty says "Lao PDR", not "Lao People's Democratic
#: Republic", in its reports.
_DISPLAY: dict[str, str] = {
    "BOL": "Bolivia (Plurinational State of)",
    "COD": "Democratic Republic of the Congo",
    "CZE": "Czech Republic",
    "FSM": "Micronesia (Federated States of)",
    "GBR": "United Kingdom",
    "IRN": "Iran (Islamic Republic of)",
    "KOR": "Republic of Korea",
    "LAO": "Lao PDR",
    "MDA": "Republic of Moldova",
    "NLD": "Netherlands",
    "PRK": "Democratic People's Republic of Korea",
    "PSE": "State of Palestine",
    "TWN": "Taiwan",
    "TZA": "United Republic of Tanzania",
    "USA": "United States of America",
    "VAT": "Holy See",
    "VEN": "Venezuela (Bolivarian Republic of)",
    "VGB": "British Virgin Islands",
    "VIR": "United States Virgin Islands",
}

#: Spellings found in treaty documents, news and everyday use. These win over anything derived
#: from pycountry: "Congo" alone means the Republic of the Congo (COG) in CCM documents, which
#: always write the other one out as "Democratic Republic of (the) Congo".
_TREATY_ALIASES: dict[str, tuple[str, ...]] = {
    "BIH": ("Bosnia", "Bosnia and Herzegovina", "Bosnia-Herzegovina", "BiH"),
    "BOL": ("Bolivia", "Bolivia (Plurinational State of)"),
    "BRN": ("Brunei",),
    "CHN": ("China", "People's Republic of China", "PRC"),
    "CIV": ("Côte d'Ivoire", "Cote d'Ivoire", "Ivory Coast"),
    "COD": (
        "DR Congo",
        "DRC",
        "D.R. Congo",
        "Democratic Republic of the Congo",
        "Democratic Republic of Congo",
        "Congo-Kinshasa",
        "Congo (Kinshasa)",
    ),
    "COG": (
        "Congo",
        "Republic of the Congo",
        "Republic of Congo",
        "Congo-Brazzaville",
        "Congo (Brazzaville)",
    ),
    "CPV": ("Cabo Verde", "Cape Verde"),
    "CZE": ("Czech Republic", "Czechia"),
    "FSM": ("Micronesia", "Micronesia (Federated States of)"),
    "GBR": ("UK", "U.K.", "United Kingdom", "Great Britain", "Britain"),
    "IRN": ("Iran", "Iran (Islamic Republic of)"),
    "KOR": ("Republic of Korea", "South Korea"),
    "LAO": ("Lao PDR", "Lao P.D.R.", "Lao People's Democratic Republic", "Laos"),
    "MDA": ("Republic of Moldova", "Moldova"),
    "MKD": ("North Macedonia", "Macedonia", "The former Yugoslav Republic of Macedonia"),
    "MMR": ("Myanmar", "Burma"),
    "NLD": (
        "Netherlands",
        "the Netherlands",
        "the Kingdom of the Netherlands",
        "Netherlands (Kingdom of the)",
        "Holland",
    ),
    "PRK": ("Democratic People's Republic of Korea", "North Korea", "DPRK"),
    "PSE": ("State of Palestine", "Palestine"),
    "RUS": ("Russia", "Russian Federation"),
    "STP": ("São Tomé and Príncipe", "Sao Tome and Principe"),
    "SWZ": ("Eswatini", "Swaziland"),
    "SYR": ("Syria", "Syrian Arab Republic"),
    "TLS": ("Timor-Leste", "East Timor"),
    "TUR": ("Türkiye", "Turkey"),
    "TZA": ("United Republic of Tanzania", "Tanzania"),
    "USA": ("USA", "U.S.A.", "US", "U.S.", "United States", "United States of America"),
    "VAT": ("Holy See", "Vatican", "Vatican City"),
    "VEN": ("Venezuela", "Venezuela (Bolivarian Republic of)"),
    "VNM": ("Viet Nam", "Vietnam"),
}

# How sure a match is: a treaty spelling beats a pycountry name, which beats a name derived from
# one ("Korea" from "Korea, Republic of"). Only the best level that knows the key is consulted,
# so a derived "Congo" (which would be ambiguous) never overrides the treaty's "Congo".
_TREATY, _ISO, _DERIVED = 0, 1, 2

#: A misspelling is read as a State only when it is this similar (difflib ratio) …
_FUZZY_CUTOFF = 0.8
#: … and clearly closer to it than to any other State; otherwise the user chooses.
_FUZZY_MARGIN = 0.05
#: Suggestions offered with UnknownState may be much further away.
_SUGGEST_CUTOFF = 0.5
#: Input ending like this was cut short ("Guinea-"), so it is matched as a prefix only.
_TRUNCATION_MARKS = ("-", "…", "...")
#: Prefixes shorter than this ("Ma") fit too many States to mean anything.
_MIN_PREFIX = 3


@dataclass(frozen=True)
class Candidate:
    """One State a name may mean."""

    iso3: str
    name: str


@dataclass(frozen=True)
class Resolution:
    """What a name was read as; `warning` is set when the reading is a guess to be checked."""

    iso3: str
    name: str
    matched_alias: str
    warning: str | None = None


class StateLookupError(ValueError):
    """A name could not be read as exactly one State."""

    def __init__(self, text: str, candidates: tuple[Candidate, ...], message: str) -> None:
        self.text = text
        self.candidates = candidates
        super().__init__(message)


class Ambiguous(StateLookupError):
    """The name fits several States; `candidates` lists them (iso3 and display name)."""

    def __init__(self, text: str, candidates: tuple[Candidate, ...]) -> None:
        listed = ", ".join(f"{c.name} ({c.iso3})" for c in candidates)
        super().__init__(text, candidates, f"{_quoted(text)} could mean several States: {listed}")


class UnknownState(StateLookupError):
    """No State has this name; `candidates` holds the nearest names, if any."""

    def __init__(self, text: str, candidates: tuple[Candidate, ...]) -> None:
        if candidates:
            hint = "nearest: " + ", ".join(f"{c.name} ({c.iso3})" for c in candidates)
        else:
            hint = "use the English short name or the ISO 3166 alpha-3 code, e.g. LAO"
        super().__init__(text, candidates, f"{_quoted(text)} is not a known State ({hint})")


#: Longest name echoed back whole in an error; longer input is clipped, not repeated in full.
_ECHO_LIMIT = 80


def _quoted(text: str) -> str:
    if len(text) <= _ECHO_LIMIT:
        return repr(text)
    return f"{text[:_ECHO_LIMIT]!r}… ({len(text)} characters)"


# --- normalisation --------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _normalise(text: str) -> str:
    """Case-, accent- and punctuation-free form used as the lookup key."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    # Apostrophes join rather than split words, so "Côte d'Ivoire" and "Cote dIvoire" agree.
    plain = re.sub(r"['’‘`´]", "", plain).replace("&", " and ")
    words = _NON_ALNUM.sub(" ", plain).split()
    words = ["saint" if w in ("st", "ste") else w for w in words]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def _derived_forms(name: str) -> Iterable[str]:
    """Reorderings of pycountry's catalogue names that people actually write."""
    if ", " in name:
        head, tail = name.split(", ", 1)
        yield f"{tail} {head}"  # "Korea, Republic of" -> "Republic of Korea"
        yield head  # "Korea" (ambiguous on purpose: KOR and PRK both give it)
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if bare != name:
        yield bare  # "Holy See (Vatican City State)" -> "Holy See"


@dataclass(frozen=True)
class _Table:
    # normalised key -> {level -> iso3 codes}, and key -> a spelling to show as matched_alias
    levels: dict[str, dict[int, frozenset[str]]]
    spelled: dict[str, str]
    names: dict[str, str]
    sorted_keys: tuple[str, ...]  # for prefix scans in a stable order

    def best(self, key: str) -> frozenset[str]:
        by_level = self.levels.get(key)
        if not by_level:
            return frozenset()
        return by_level[min(by_level)]


@cache
def _table() -> _Table:
    """Build the alias table once per process (pycountry's data is loaded here, and only here)."""
    raw: dict[str, dict[int, set[str]]] = {}
    spelled: dict[str, str] = {}
    names: dict[str, str] = {}

    def add(alias: str, iso3: str, level: int) -> None:
        key = _normalise(alias)
        if not key:
            return
        raw.setdefault(key, {}).setdefault(level, set()).add(iso3)
        spelled.setdefault(key, alias)

    for country in pycountry.countries:
        iso3 = country.alpha_3
        # pycountry's short name is the UN one ("Viet Nam", "Syrian Arab Republic"); only the
        # inverted "Korea, Republic of" forms and the treaty's own choices are overridden.
        names[iso3] = _DISPLAY.get(iso3, country.name)
        add(iso3, iso3, _ISO)
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                add(value, iso3, _ISO)
                for form in _derived_forms(value):
                    add(form, iso3, _DERIVED)
    for iso3, aliases in _TREATY_ALIASES.items():
        for alias in aliases:
            add(alias, iso3, _TREATY)
        add(names[iso3], iso3, _TREATY)
    levels = {
        key: {level: frozenset(codes) for level, codes in by_level.items()}
        for key, by_level in raw.items()
    }
    return _Table(levels=levels, spelled=spelled, names=names, sorted_keys=tuple(sorted(levels)))


# --- lookups --------------------------------------------------------------------------------


def display_name(iso3: str) -> str:
    """The State's name as the treaty writes it ("Lao PDR"); UnknownState for an unknown code."""
    names = _table().names
    code = iso3.strip().upper()
    if code not in names:
        raise UnknownState(iso3, _suggest(_normalise(iso3)))
    return names[code]


def resolve(name: str) -> Resolution:
    """Read `name` (a name in any common spelling, or an alpha-3 code) as one State.

    Raises Ambiguous when several States fit equally well, UnknownState when none does.
    """
    return _resolve_key(name, _normalise(name), truncated=name.rstrip().endswith(_TRUNCATION_MARKS))


# Bounded: names come from users and files, and an unbounded cache would grow with every typo.
@lru_cache(maxsize=4096)
def _resolve_key(text: str, key: str, truncated: bool) -> Resolution:
    table = _table()
    if not key:
        raise UnknownState(text, ())
    # "Guinea-" or "Saint…" was cut short: read it as the start of a name, not a whole one.
    exact = frozenset() if truncated else table.best(key)
    if len(exact) == 1:
        return _found(next(iter(exact)), table.spelled[key], warning=None)
    if exact:
        raise Ambiguous(text, _candidates(exact))

    prefixed = _by_prefix(key)
    if len(prefixed) == 1:
        ((iso3, alias),) = prefixed.items()
        whole_words = _normalise(alias).startswith(key + " ")
        # "Bosnia" or "Lao" (whole words) is a common short form; "Bosn" is a truncation to check.
        warning = None if whole_words else _guess_warning(text, iso3)
        return _found(iso3, alias, warning)
    if prefixed:
        raise Ambiguous(text, _candidates(prefixed))

    scored = _scores(key)
    close = [(score, iso3) for iso3, score in scored.items() if score >= _FUZZY_CUTOFF]
    close.sort(reverse=True)
    if close:
        best_score, best = close[0]
        rivals = [iso3 for score, iso3 in close[1:] if best_score - score < _FUZZY_MARGIN]
        if rivals:
            raise Ambiguous(text, _candidates([best, *rivals]))
        alias = _nearest_alias(key, best)
        return _found(best, alias, _guess_warning(text, best))
    raise UnknownState(text, _suggest(key))


def _found(iso3: str, alias: str, warning: str | None) -> Resolution:
    return Resolution(iso3=iso3, name=_table().names[iso3], matched_alias=alias, warning=warning)


def _guess_warning(text: str, iso3: str) -> str:
    return f"{text.strip()!r} read as {_table().names[iso3]} ({iso3}) — check the spelling"


def _candidates(codes: Iterable[str]) -> tuple[Candidate, ...]:
    names = _table().names
    unique = sorted(set(codes), key=lambda code: names[code])
    return tuple(Candidate(iso3=code, name=names[code]) for code in unique)


def _by_prefix(key: str) -> dict[str, str]:
    """States with an alias starting with `key` (word boundaries not required): iso3 -> alias."""
    if len(key.replace(" ", "")) < _MIN_PREFIX:
        return {}
    table = _table()
    found: dict[str, str] = {}
    for alias_key in table.sorted_keys:
        if alias_key.startswith(key):
            for iso3 in table.best(alias_key):
                found.setdefault(iso3, table.spelled[alias_key])
    return found


def _scores(key: str) -> dict[str, float]:
    """Best similarity of `key` to any alias of each State."""
    table = _table()
    matcher = difflib.SequenceMatcher(b=key, autojunk=False)
    best: dict[str, float] = {}
    for alias_key in table.levels:
        matcher.set_seq1(alias_key)
        # The cheap upper bounds first: most aliases are nowhere near.
        if matcher.real_quick_ratio() < _SUGGEST_CUTOFF or matcher.quick_ratio() < _SUGGEST_CUTOFF:
            continue
        score = matcher.ratio()
        for iso3 in table.best(alias_key):
            if score > best.get(iso3, 0.0):
                best[iso3] = score
    return best


def _nearest_alias(key: str, iso3: str) -> str:
    table = _table()
    keys = [k for k in table.levels if iso3 in table.best(k)]
    nearest = max(keys, key=lambda k: difflib.SequenceMatcher(a=k, b=key).ratio())
    return table.spelled[nearest]


def _suggest(key: str, limit: int = 3) -> tuple[Candidate, ...]:
    if not key:
        return ()
    ranked = sorted(_scores(key).items(), key=lambda item: (-item[1], item[0]))
    names = _table().names
    return tuple(Candidate(iso3=code, name=names[code]) for code, _ in ranked[:limit])
