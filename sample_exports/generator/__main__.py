"""`python -m sample_exports.generator ...` runs the `generate` command."""

from .cli import generate

generate()
