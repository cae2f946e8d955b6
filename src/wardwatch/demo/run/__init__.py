"""``wardwatch demo``: prepare a demo hospital end to end (generate, analyze, intel, risk, detect, accounts).

:func:`~wardwatch.demo.run.prepare.prepare_demo` is the one entry point; the CLI (``cli/demo_cmd.py``)
renders its progress and serves the web application afterwards.
"""

from wardwatch.demo.run.model import DemoOptions, DemoResult, StepResult
from wardwatch.demo.run.prepare import prepare_demo

__all__ = ["DemoOptions", "DemoResult", "StepResult", "prepare_demo"]
