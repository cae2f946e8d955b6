"""The demo hospital generator: a synthetic, protocol-faithful capture with its ground truth."""

from wardwatch.demo.generator import DEFAULT_START, generate_hospital
from wardwatch.demo.truth import GenerationSummary

__all__ = ["DEFAULT_START", "GenerationSummary", "generate_hospital"]
