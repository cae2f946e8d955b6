"""The built-in detection rules; importing this package registers them."""

from wardwatch.detect.rules import anomaly, clinical, credentials, ioc, policy, scan

__all__ = ["anomaly", "clinical", "credentials", "ioc", "policy", "scan"]
