"""`python -m benchmarks`: the same command as the `cds-bench` script (benchmarks.cli)."""

from benchmarks.cli import bench

if __name__ == "__main__":
    bench()
