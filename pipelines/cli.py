"""The `cds` command line: run the pipeline in-process, generate sample data, check an indicator set,
show the effective settings. Options are English; help texts are Vietnamese."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from pipelines.runner import make_console

console = make_console()


@click.group(help="Pipeline kiểm tra tự đánh giá chuyển đổi số (QĐ 4725) của Sở GD&ĐT.")
def main() -> None:
    pass


@main.command(help="Chạy toàn bộ pipeline (Dagster, trong tiến trình) cho một năm học.")
@click.option("--inbox", type=click.Path(path_type=Path), default=None, help="Thư mục nhận tệp xuất.")
@click.option("--warehouse", type=click.Path(path_type=Path), default=None, help="Tệp DuckDB.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Thư mục kết quả.")
@click.option(
    "--year", "school_year", default=None, help="Năm học, dạng YYYY-YYYY (mặc định: năm học hiện tại)."
)
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=None,
    help="Số giây chờ nếu một lượt chạy khác đang dùng kho dữ liệu (mặc định: CDS_LOCK_WAIT_SECONDS).",
)
@click.option(
    "--force", is_flag=True, default=False, help="Chạy mọi bước kể cả khi thư mục nhận không có thay đổi."
)
@click.option(
    "--province",
    "provinces",
    multiple=True,
    help="Mã tỉnh (hai chữ số) khi thư mục nhận có cấp tỉnh (<thư mục nhận>/<mã tỉnh>/<năm học>/…); "
    "lặp lại để chạy nhiều tỉnh, lần lượt từng tỉnh. Mặc định: mọi tỉnh của CDS_PROVINCES.",
)
def run(
    inbox: Path | None,
    warehouse: Path | None,
    out: Path | None,
    school_year: str | None,
    wait_seconds: float | None,
    force: bool,
    provinces: tuple[str, ...],
) -> None:
    from pipelines.lock import WarehouseBusyError
    from pipelines.runner import run_pipeline
    from pipelines.settings import get_settings

    settings = get_settings(inbox=inbox, warehouse=warehouse, out=out, school_year=school_year)
    codes = list(provinces) or settings.provinces
    try:
        views = [settings.for_province(c) for c in codes] if codes else [settings]
    except ValueError as exc:
        console.print(f"Mã tỉnh không hợp lệ: {exc}", style="red", markup=False, highlight=False)
        sys.exit(2)
    t0 = time.perf_counter()
    ok = True
    for view in views:  # one province at a time (each has its own warehouse, lock and outputs)
        if codes:
            console.print(f"[bold]Tỉnh {view.province_code}[/bold]", highlight=False)
        try:
            ok = bool(run_pipeline(view, console, force=force, wait_seconds=wait_seconds)) and ok
        except WarehouseBusyError as exc:
            console.print(str(exc), style="red", markup=False, highlight=False)
            sys.exit(3)
    console.print(f"[bold]Thời gian chạy:[/bold] {f'{time.perf_counter() - t0:.1f}'.replace('.', ',')} giây")
    sys.exit(0 if ok else 1)


@main.command(help="Giải thích một giá trị: quy tắc, số liệu và các dòng nguồn được đếm (tử số, mẫu số).")
@click.option("--school", required=True, help="Mã trường.")
@click.option("--criterion", required=True, help="Mã tiêu chí, ví dụ 1.7.1.")
@click.option("--year", "school_year", required=True, help="Năm học, dạng YYYY-YYYY.")
@click.option("--warehouse", type=click.Path(path_type=Path), default=None, help="Tệp DuckDB.")
def explain(school: str, criterion: str, school_year: str, warehouse: Path | None) -> None:

    from indicator_sets.model import load_indicator_set
    from pipelines.explain import explain as explain_value
    from pipelines.explain import lines
    from pipelines.settings import get_settings
    from warehouse.connection import connect

    settings = get_settings(warehouse=warehouse)
    con = connect(settings.warehouse, None, None, read_only=True)
    try:
        e = explain_value(con, load_indicator_set(settings.indicator_set), school, criterion, school_year)
    except KeyError as exc:
        console.print(str(exc.args[0]), style="red", markup=False)
        sys.exit(2)
    finally:
        con.close()
    for line in lines(e):
        console.print(line, markup=False, highlight=False)


@main.group(name="indicator-set", help="Bộ chỉ số (YAML).")
def indicator_set() -> None:
    pass


@indicator_set.command(name="check", help="Kiểm tra tệp bộ chỉ số: tổng điểm nhóm và mọi lỗi kèm số dòng.")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
def indicator_set_check(file: Path) -> None:
    from indicator_sets.model import check

    iset, problems = check(file)
    if iset is not None:
        for g in iset.groups:
            console.print(
                f"Nhóm {g.roman} ({g.code}): tổng điểm tối đa {iset.group_max_sum(g.code):g}/{g.max_points:g}"
            )
        console.print(f"Số tiêu chí: {len(iset.leaves())}")
    for p in problems:
        console.print(str(p), style="red" if p.severity == "error" else "yellow", markup=False)
    sys.exit(1 if iset is None else 0)


@main.command(
    help="Xem cách một tệp được đọc: mẫu báo cáo chọn và mẫu xếp thứ hai, các tầng tiêu đề, từng cột "
    "được đọc hay không, thông tin tìm thấy và ở đâu, các bản ghi đầu, các dòng bị loại; với tệp JSON: mẫu "
    "JSON và nguồn của từng cột. Mã thoát: 0 đã mô tả tệp (nạp được hay bị cách ly); 3 bước nạp không đọc "
    "tệp (tên tệp hoặc thư mục bắt đầu bằng _ hoặc ., như _truth/ của bộ sinh dữ liệu)."
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def inspect(file: Path) -> None:
    from connectors.inspection import NOT_INGESTED_EXIT, format_inspection, inspect_file, not_ingested

    why = not_ingested(file)
    if why is not None:
        print(f"Tệp: {file}\nKết quả: không nạp — {why}")
        sys.exit(NOT_INGESTED_EXIT)
    print(format_inspection(inspect_file(file)))


@main.group(help="Mẫu báo cáo (connectors/layouts/).")
def layout() -> None:
    pass


@layout.command(
    name="draft",
    help="Phác thảo một mẫu báo cáo (YAML) từ dòng tiêu đề cột của tệp, để người xem lại; với tệp JSON: in "
    "mẫu JSON đang đọc nó và nguồn của từng cột (không có YAML). Mã thoát: 0 đã in (hoặc ghi) bản phác thảo; "
    "2 không phác thảo được (mã mẫu sai dạng, tệp không đọc được, không có dòng tiêu đề quen thuộc, --out "
    "với tệp JSON); 3 bước nạp không đọc tệp (tên tệp hoặc thư mục bắt đầu bằng _ hoặc ., như _truth/).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "layout_id", required=True, help="Mã mẫu mới, dạng nhà_cung_cấp.tên.v1.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Ghi vào tệp này.")
def layout_draft(file: Path, layout_id: str, out: Path | None) -> None:
    from connectors.inspection import NOT_INGESTED_EXIT, not_ingested
    from connectors.layout_draft import DraftError, draft_layout, json_draft_text
    from connectors.readers import JSON_TYPES

    why = not_ingested(file)
    if why is not None:
        console.print(f"Không phác thảo «{file.name}»: {why}", markup=False, highlight=False)
        sys.exit(NOT_INGESTED_EXIT)
    if file.suffix.lower() in JSON_TYPES:
        print(json_draft_text(file, layout_id), end="")
        if out is not None:
            console.print(
                f"Không ghi {out}: tệp JSON không có mẫu YAML", style="red", markup=False, highlight=False
            )
            sys.exit(2)
        return
    try:
        text = draft_layout(file, layout_id).yaml()
    except DraftError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        sys.exit(2)
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Đã ghi {out}", markup=False, highlight=False)


@main.command(name="config", help="In các thiết lập đang có hiệu lực (che khóa bí mật).")
def config_cmd() -> None:
    from pipelines.settings import get_settings

    s = get_settings()
    for name, value in s.model_dump().items():
        shown = "********" if "key" in name and str(value) else value
        console.print(f"CDS_{name.upper():<26} {shown}", markup=False, highlight=False, soft_wrap=True)


@main.command(
    help="Mô phỏng cả nước trên máy này: sinh bộ dữ liệu nhỏ dưới N mã tỉnh, chạy qua Dagster "
    "(daemon, hàng đợi lượt chạy, mỗi tỉnh một lượt một lúc) và in thời gian, số lượt chạy đồng thời."
)
@click.option(
    "--provinces", "n_provinces", type=click.IntRange(1, 63), default=34, show_default=True, help="Số tỉnh."
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("simulation"),
    show_default=True,
    help="Thư mục làm việc (thư mục nhận, kho dữ liệu, kết quả, Dagster).",
)
@click.option("--years", default="2024-2025", show_default=True, help="Các năm học, cách nhau bởi dấu phẩy.")
@click.option(
    "--max-concurrent-runs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Số lượt chạy cùng lúc (hàng đợi của Dagster).",
)
@click.option(
    "--catalog-uri", default="", help="Catalog của lakehouse (SQLAlchemy URI; mặc định: SQLite nhúng)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=7200,
    show_default=True,
    help="Số giây tối đa chờ mọi lượt chạy xong.",
)
def simulate(
    n_provinces: int, folder: Path, years: str, max_concurrent_runs: int, catalog_uri: str, timeout: float
) -> None:
    import json

    from pipelines import simulate as sim
    from pipelines.settings import get_settings

    folder = folder.resolve()
    year_list = [y.strip() for y in years.split(",") if y.strip()]
    codes = sim.province_codes(n_provinces)
    settings = get_settings(
        inbox=folder / "inbox",
        warehouse=folder / "data" / "warehouse.duckdb",
        out=folder / "out",
        lake=folder / "lake",
        lake_catalog_uri=catalog_uri,
        provinces=codes,
        sensor_debounce_seconds=0,
        sensor_interval_seconds=5,
        ingest_settle_seconds=0,
    )
    console.print(f"Sinh dữ liệu {len(codes)} tỉnh ({', '.join(codes)}) → {settings.inbox}", highlight=False)
    sim.generate_provinces(settings.inbox, codes, year_list)
    console.print(f"Chạy qua Dagster ({max_concurrent_runs} lượt cùng lúc)…", highlight=False)
    result = sim.simulate(
        settings, folder / "dagster", year_list, max_concurrent_runs=max_concurrent_runs, timeout=timeout
    )
    for line in sim.report_lines(result, max_concurrent_runs):
        console.print(line, markup=False, highlight=False)
    (folder / "simulation.json").write_text(
        json.dumps(
            {
                "runs": [vars(r) for r in result.runs],
                "wall_seconds": result.wall_seconds,
                "sum_seconds": result.sum_seconds,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    sys.exit(0 if all(r.status == "SUCCESS" for r in result.runs) and not result.overlapping(True) else 1)


def _register_optional() -> None:
    """Commands that live with their component (the generator; the benchmarks have their own entry
    point, `cds-bench`)."""
    try:
        from sample_exports.generator.cli import generate

        main.add_command(generate, name="generate")
    except ImportError:
        pass


_register_optional()

if __name__ == "__main__":  # pragma: no cover
    main()
