"""The parsing core: a sheet grid (all cells as text) → canonical records of a layout
(docs/exports.md §1.2–§1.6), each step once, split by job:

- `model`: the data types (Grid, HeaderMatch, ParseContext, SheetResult, ColumnUse);
- `cells`: layout-free kernels over text cells (blank, trimmed, footer rows);
- `headers`: header location, tiers, column mapping; `titles`: title metadata;
- `blocks`: data rows per block under a header; `values`: value parsing and row checks;
- `metadata`: school / year / period from titles, file names and folders; explode and melt;
- `finish`: a group's rows → per-sheet records, rejects, warnings (one sheet is a group of one);
- `group`: collecting a group's sheets, plain tables; `marks`: wide sheets → long records;
- `tt22`, `tt27`, `wide`: the reshapers; `accounting`: each column's use; `shapes`: dispatch.
"""
