"""Alerting: the alert store and the notifiers that deliver alerts (issue 7; lifecycle in issue 9)."""
