"""Prevention: baselines, segmentation policy, exporters, replay and enforcement (issue 7)."""
