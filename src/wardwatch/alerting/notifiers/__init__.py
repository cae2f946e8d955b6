"""Alert delivery: syslog CEF (UDP, TCP, TLS), signed JSON webhook, email over SMTP."""
