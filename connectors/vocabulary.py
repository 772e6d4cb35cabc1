"""The vocabulary the connectors read with: every vendor word (title keys, footer words, flag, tick,
sex, semester and period words, subject names and abbreviations, grade-book component words, TT27
groups and levels, self-assessment totals) lives in `layouts/vocabulary/*.yaml`, validated here by
pydantic models. Code holds mechanisms, these files hold words: a new word is a YAML line plus a test.

What belongs here: the models of those files, their loading, and the lookups compiled from them
(normalised word → meaning). Parsing itself is elsewhere (`connectors.normalize`, `connectors.parsing`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from connectors.entities import YAML_LOADER
from connectors.text import nfc, norm

VOCAB_DIR = Path(__file__).with_name("layouts") / "vocabulary"

Words = list[str]
TitleField = Literal[
    "school_year",
    "semester",
    "period",
    "class_name",
    "grade",
    "subject",
    "school_code",
    "school_name",
    "date_from",
    "date_to",
]
Period = Literal["DN", "GK1", "CK1", "GK2", "CN"]
Semester = Literal["1", "2", "CN"]
Truth = Literal["true", "false"]
K = TypeVar("K", bound=str)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def lookup(mapping: Mapping[K, Sequence[str]], *, allow_blank: bool = False) -> dict[str, K]:
    """norm(word) → its key; raises ValueError when one word means two things or normalises to
    nothing (a symbol-only word belongs in a raw-text list such as `ticks`)."""
    out: dict[str, K] = {}
    for key, words in mapping.items():
        for w in words:
            k = norm(w)
            if not k and not (allow_blank and w == ""):
                raise ValueError(f"{w!r} ({key}) has no letter or digit after norm")
            if out.get(k, key) != key:
                raise ValueError(f"{w!r} means both {out[k]!r} and {key!r}")
            out[k] = key
    return out


def norm_set(words: Words) -> frozenset[str]:
    """The normalised forms of a word list."""
    return frozenset(norm(w) for w in words)


class CommonVocabulary(_Model):
    """Words of every layout: shared header synonyms, title keys, class titles and footers."""

    shared_synonyms: list[Words]
    title_keys: dict[TitleField, Words]
    class_title_words: Words
    footer_prefixes: Words
    footer_date_words: Words
    # phrases of a title line that give the period or the semester without a `Key:`
    # (docs/real_exports.md R1–R3)
    title_periods: dict[Period, Words] = {}
    title_semesters: dict[Semester, Words] = {}

    @model_validator(mode="after")
    def _check(self) -> CommonVocabulary:
        lookup(self.title_keys)
        lookup(self.title_periods)
        lookup(self.title_semesters)
        lookup({str(i): g for i, g in enumerate(self.shared_synonyms)})
        if len(self.footer_date_words) != 3:
            raise ValueError("footer_date_words: the words for day, month and year")
        for p in self.footer_prefixes:
            if p != nfc(p).lower():
                raise ValueError(f"footer prefix {p!r}: write it in lower case (NFC)")
        return self

    @cached_property
    def title_lookup(self) -> dict[str, TitleField]:
        """norm(title key) → the metadata item it gives."""
        return lookup(self.title_keys)

    @cached_property
    def title_phrases(self) -> list[tuple[str, str, str]]:
        """(` norm(phrase) `, item, value) of the title phrases, longest first (`cuối học kì ii` is tried
        before `cuối học kì i`); a phrase matches whole words of a title text's `norm`."""
        out = [(f" {norm(w)} ", "period", str(k)) for k, ws in self.title_periods.items() for w in ws]
        out += [(f" {norm(w)} ", "semester", str(k)) for k, ws in self.title_semesters.items() for w in ws]
        return sorted(out, key=lambda t: -len(t[0]))

    @cached_property
    def class_title_rx(self) -> re.Pattern[str]:
        """`LỚP <class>` at the end of a title text."""
        words = "|".join(re.escape(w) for w in self.class_title_words)
        return re.compile(rf"(?:{words})\s+([0-9][0-9A-Za-z+.\s]*)$", re.IGNORECASE)

    @cached_property
    def footer_date_rx(self) -> re.Pattern[str]:
        """`…, ngày … tháng … năm …` in a lower-cased first cell."""
        d, m, y = (re.escape(w) for w in self.footer_date_words)
        return re.compile(rf",\s*{d}\s.*{m}\s.*{y}\s", re.IGNORECASE)

    def synonyms_of(self, header: str) -> Words:
        """The headers of the shared group `header` belongs to (after norm), empty when none."""
        k = norm(header)
        return next((g for g in self.shared_synonyms if k in norm_set(g)), [])


class ValueVocabulary(_Model):
    """Words of cell values: flags and ticks, sex, semesters, periods, class prefixes, currency."""

    flags: dict[Truth, Words]
    ticks: Words
    sex: dict[Literal["M", "F"], Words]
    female_flag: Words
    semesters: dict[Semester, Words]
    periods: dict[Period, Words]
    period_codes: dict[str, Period]
    # words of a file name that give the period when no cell does (CSDL TT27 import template, R5)
    file_name_periods: dict[Period, Words] = {}
    class_prefixes: Words
    currency_marks: Words
    teacher_positions: Words
    none_words: Words

    @model_validator(mode="after")
    def _check(self) -> ValueVocabulary:
        lookup(self.flags, allow_blank=True)
        lookup(self.sex)
        lookup(self.semesters)
        lookup(self.periods)
        lookup(self.file_name_periods)
        if any(norm(t) for t in self.ticks):
            raise ValueError("ticks are symbols compared as written; letters and digits belong in flags")
        return self


class SubjectVocabulary(_Model):
    """Subject codes and the names vendors write for them."""

    subjects: dict[str, Words]
    comment_subjects: list[str]

    @model_validator(mode="after")
    def _check(self) -> SubjectVocabulary:
        lookup(self.subjects)
        unknown = set(self.comment_subjects) - set(self.subjects)
        if unknown:
            raise ValueError(f"comment_subjects not in subjects: {sorted(unknown)}")
        return self


class TT22Component(_Model):
    headers: Words
    component: Literal["tx", "gk", "ck", "avg_sem", "avg_year", "comment"]
    semester: Semester | None = None
    slotted: bool = False


class TT22Vocabulary(_Model):
    """TT22 grade-book component words."""

    components: dict[str, TT22Component]
    slot_words: Words
    text_marks: dict[str, str]
    semester_period: dict[Semester, Period]
    # a term summary book (R3): sub-label under a subject → what its column holds; cells meaning blank
    summary_leaves: dict[Literal["avg_sem"], Words] = {}
    blank_marks: list[str] = []

    @model_validator(mode="after")
    def _check(self) -> TT22Vocabulary:
        lookup({k: c.headers for k, c in self.components.items()})
        lookup({v: [k] for k, v in self.text_marks.items()})
        lookup(self.summary_leaves)
        return self


class TT27Vocabulary(_Model):
    """TT27 result words: groups, competences, qualities, year-end columns, leaves, value words."""

    groups: dict[Literal["subject", "competence", "quality"], Words]
    competences: dict[str, Words]
    qualities: dict[str, Words]
    year_end: dict[Literal["completed", "promoted", "not_promoted", "final"], Words]
    # tick columns under a final-result group: the ticked column is the pupil's final result (R1)
    final_groups: Words = []
    final_ticks: dict[str, Words] = {}
    level_leaves: Words
    test_leaves: Words
    values: dict[Literal["level", "competence", "quality", "final"], dict[str, Words]]
    flags: dict[Truth, Words]
    period_semester: dict[Period, Semester]

    @model_validator(mode="after")
    def _check(self) -> TT27Vocabulary:
        lookup(self.groups)
        lookup(self.competences)
        lookup(self.qualities)
        lookup(self.year_end)
        lookup(self.final_ticks)
        for words in self.values.values():
            lookup(words)
        lookup(self.flags)
        return self


class SelfAssessmentVocabulary(_Model):
    """Self-assessment words: group totals, declared level, mandatory criteria met."""

    group_totals: dict[str, Words]
    level_headers: Words
    mandatory_met_wide: Words
    mandatory_met: dict[Truth, Words]

    @model_validator(mode="after")
    def _check(self) -> SelfAssessmentVocabulary:
        lookup(self.group_totals)
        lookup(self.mandatory_met)
        return self


class Vocabulary(_Model):
    """Every vocabulary file, one attribute per file."""

    common: CommonVocabulary
    values: ValueVocabulary
    subjects: SubjectVocabulary
    tt22: TT22Vocabulary
    tt27: TT27Vocabulary
    self_assessment: SelfAssessmentVocabulary


MARK_VOCABULARIES = ("tt22", "tt27", "self_assessment")


@cache
def load_vocabulary(vocab_dir: Path = VOCAB_DIR) -> Vocabulary:
    """All vocabulary files of `vocab_dir`, validated (a bad file raises naming it)."""
    data = {}
    for name in Vocabulary.model_fields:
        path = vocab_dir / f"{name}.yaml"
        data[name] = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    try:
        return Vocabulary.model_validate(data)
    except Exception as exc:  # pragma: no cover - surfaced by the vocabulary test
        raise ValueError(f"{vocab_dir}: {exc}") from exc


def vocabulary() -> Vocabulary:
    """The vocabulary of this installation."""
    return load_vocabulary()
