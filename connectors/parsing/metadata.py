"""Where a record's metadata comes from when no column gives it: the block's title (class, semester,
period, grade, subject, dates, school code or name), the file name (period), the delivery folder
(school, year); rows of another education level; the Vietnamese detail of a missing item; and the
explode / melt of kept rows into records.
"""

from __future__ import annotations

import pandas as pd

from connectors import normalize as nz
from connectors.layouts import Layout
from connectors.parsing.model import ParseContext
from connectors.parsing.values import _distinct, _expand


def fill_title_fields(out: pd.DataFrame, meta: pd.DataFrame, layout: Layout) -> None:
    """Columns a layout takes from the title (class, semester, period, grade, subject, dates)."""
    title_fields = set(layout.required_metadata) | set(layout.options.get("title_meta", []))
    for m in ("class_name", "semester", "period", "grade", "subject", "date_from", "date_to"):
        col = f"_meta_{m}"
        target = "subject_code" if m == "subject" else m
        if col not in meta.columns or (m not in title_fields and target not in title_fields):
            continue
        from_title = _title_value(m, meta[col])
        out[target] = out[target].fillna(from_title) if target in out.columns else from_title


def other_level(names: pd.Series, layout: Layout) -> pd.Series:
    """Rows whose school name starts with a name of another education level (`options.other_level_names`,
    compared by `norm`: `TRƯỜNG MẦM NON …`, NFD or not, is a preschool)."""
    prefixes = tuple(nz.norm(p) + " " for p in layout.options.get("other_level_names", []))
    if not prefixes:
        return pd.Series(False, index=names.index)
    return names.map(lambda v: isinstance(v, str) and (nz.norm(v) + " ").startswith(prefixes)).astype(bool)


def fill_file_name_fields(out: pd.DataFrame, layout: Layout, files: pd.Series) -> None:
    """Items a layout takes from the file name when no cell gives them (`options.file_name_meta`; today
    the period: `…_HK1.xlsx` → CK1, vocabulary `values.file_name_periods`)."""
    if "period" not in layout.options.get("file_name_meta", []) or out.empty:
        return
    if "period" in out.columns and out["period"].notna().all():
        return
    by_name = files.map({f: nz.period_of_file_name(f) for f in pd.unique(files.to_numpy(dtype=object))})
    out["period"] = out["period"].fillna(by_name) if "period" in out.columns else by_name


#: how the data officer names a metadata item, and an example of where it goes
_ITEM_VI = {
    "period": "kỳ đánh giá",
    "semester": "học kỳ",
    "school_year": "năm học",
    "class_name": "lớp",
    "school_code": "mã trường",
}


def missing_metadata_detail(layout: Layout, item: str, file: str) -> str:
    """The Vietnamese detail of a `missing_metadata` quarantine: what is missing, where the parser looked,
    and how the school can fix it (for an item read from the file name: how to name the file)."""
    name = file.rsplit("/", 1)[-1]
    places = ["dòng tiêu đề", "các cột"]
    from_name = item in layout.options.get("file_name_meta", [])
    if from_name:
        places.append(f"tên tệp «{name}»")
    if item in ("school_year", "school_code"):
        places.append("thư mục nộp")
    what = _ITEM_VI.get(item, item)
    text = f"không tìm thấy {what}; đã tìm ở " + ", ".join(places[:-1]) + " và " + places[-1]
    if from_name and item == "period":
        stem, dot, ext = name.rpartition(".")
        stem, ext = (stem, f".{ext}") if dot else (name, "")
        text += (
            f". Hãy đặt tên tệp có kỳ đánh giá, ví dụ {stem}_GK1{ext} (giữa học kỳ I), {stem}_HK1{ext} "
            f"(cuối học kỳ I), {stem}_GK2{ext} (giữa học kỳ II) hoặc {stem}_CuoiNam{ext} (cuối năm)"
        )
    elif item in _ITEM_VI:
        text += (
            f". Hãy ghi {what} ở dòng tiêu đề (ví dụ «{_TITLE_EXAMPLE.get(item, what)}») hoặc trong một cột"
        )
    return text


_TITLE_EXAMPLE = {
    "period": "Kỳ đánh giá: Cuối năm",
    "semester": "Học kỳ: 1",
    "school_year": "Năm học: 2024-2025",
    "class_name": "Lớp: 6A",
    "school_code": "Mã trường: 08000001",
}


def explode_and_melt(good: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """The kept rows as records: a cell listing several values gives one record per value (`explode`),
    metric columns give one record per non-blank cell (`melt`). Each record keeps its row's index; the
    order within a sheet is the same whether the rows of one sheet or of several are reshaped."""
    explode = layout.options.get("explode")
    if explode and explode in good.columns:  # a cell listing several values → one row per value
        good[explode] = good[explode].astype("string").str.split(r"[,;]+", regex=True)
        good = good.explode(explode)
        good[explode] = good[explode].astype("string").str.strip().replace("", pd.NA)
        good = good[good[explode].notna()]
        if explode == "class_name":
            good[explode] = nz.class_name_of(good[explode])
    melt = layout.options.get("melt")  # metric columns → one row per non-blank cell
    if melt:
        cols = [c for c in melt["columns"] if c in good.columns]
        ids = [c for c in good.columns if c not in melt["columns"]]
        good = good.rename_axis("_row").reset_index()
        good = good.melt(
            id_vars=["_row", *ids], value_vars=cols, var_name=melt["var"], value_name=melt["value"]
        )
        good = good[good[melt["value"]].notna()].set_index("_row").rename_axis(None)
    return good


_TITLE_CACHE: dict[tuple[str, object, tuple[str | None, ...]], pd.Series] = {}


def _title_value(field_name: str, values: pd.Series) -> pd.Series:
    """A title metadata value parsed like its column would be (once per distinct value: a title
    value is the same for every row of its block). The parsers are elementwise and title texts repeat
    from file to file, so the parsed distinct values are cached for the process."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        d = _distinct(values)
        if d is not None:
            small, pos = d
            key = (field_name, small.name, tuple(small.tolist()))
            parsed = _TITLE_CACHE.get(key)
            if parsed is None:
                if len(_TITLE_CACHE) >= 4096:
                    _TITLE_CACHE.clear()
                parsed = _TITLE_CACHE[key] = _title_value_of(field_name, small)
            return _expand(parsed, pos, values.index)
    return _title_value_of(field_name, values)


def _title_value_of(field_name: str, values: pd.Series) -> pd.Series:
    text = nz.clean_text(values)
    if field_name == "class_name":
        return nz.class_name_of(text)
    if field_name == "semester":
        return text.map(lambda v: nz.semester_of(v) if isinstance(v, str) else None)
    if field_name == "period":
        return text.map(lambda v: nz.period_of(v) if isinstance(v, str) else None)
    if field_name == "grade":
        return nz.parse_grade(text)[0]
    if field_name == "subject":
        return nz.parse_subject(text)[0]
    if field_name in ("date_from", "date_to"):
        return nz.parse_date(text)[0]
    return text


def resolve_school(
    meta: pd.DataFrame, ctx: ParseContext, folder_school: pd.Series | None = None
) -> pd.Series:
    """Title `Mã trường`, then the school name in the title against the registry, then the folder
    (`folder_school`: each row's delivery folder when the rows come from several files)."""
    idx = meta.index
    res = pd.Series(pd.NA, index=idx, dtype="string")
    if "_meta_school_code" in meta.columns:
        codes, _ = nz.parse_id(meta["_meta_school_code"])
        codes = codes.where(~codes.str.fullmatch(r"\d{1,7}").fillna(False).astype(bool), codes.str.zfill(8))
        res = res.fillna(codes)
    if ctx.school_names and "_meta_texts" in meta.columns:

        def by_name(texts: object) -> object:
            for line in str(texts).splitlines():
                code = ctx.school_names.get(nz.norm(line))
                if code:
                    return code
            return pd.NA

        texts = meta["_meta_texts"]  # the same for every row of a block: looked up once per distinct text
        codes_of = {t: by_name(t) for t in pd.unique(texts.to_numpy(dtype=object))}
        res = res.fillna(texts.map(codes_of).astype("string"))
    if folder_school is not None:
        res = res.fillna(folder_school.astype("string"))
    elif ctx.folder_school:
        res = res.fillna(ctx.folder_school)
    return res
