"""Reports: the PDF executive report and CSV/XLSX exports of inventory, findings and plan.

``data.gather`` collects what exists (and says what does not); ``pdf`` and ``tables`` render it. The web
layer (``/reports``) and the CLI (``wardwatch report``) call these.
"""
