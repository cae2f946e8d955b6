"""Policy exporters: one module per target format, registered in the ``wardwatch.exporters`` entry-point
group (built-ins register the same way as outside plugins; ARCHITECTURE.md, Conventions)."""
