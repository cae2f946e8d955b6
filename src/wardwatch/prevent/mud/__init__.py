"""RFC 8520 Manufacturer Usage Description: the JSON Schema of the model, import, and comparison with
observed traffic (the exporter lives in ``prevent/exporters/mud.py``)."""
