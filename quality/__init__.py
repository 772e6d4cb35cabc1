"""Data quality: pandera schemas generated from the entity metadata (row level), the validate stage
that quarantines failing rows, and (later) Great Expectations suites and the data-quality report."""
