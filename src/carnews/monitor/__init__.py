"""Monitor: what ``/healthz``, ``/metrics`` and ``carnews status`` report, read from the
database at the moment they are asked (``snapshot``), judged (``health``) and exposed in
Prometheus's text format (``metrics``)."""
