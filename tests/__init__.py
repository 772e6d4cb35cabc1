"""The test suite. Test runs read every inbox file at once: a file a test has just written is not left
for the next run as one still being written (`CDS_INGEST_SETTLE_SECONDS`, default 60); a test of that
rule sets its own value."""

import os

os.environ.setdefault("CDS_INGEST_SETTLE_SECONDS", "0")
