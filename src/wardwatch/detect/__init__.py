"""Detection: rules over flows and Observations that raise alerts (issue 7)."""
