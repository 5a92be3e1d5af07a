"""The metric catalogue's queries, one module per seam; ``critac_metrics.metrics`` is their public
face (see its docstring). Names with a leading underscore are shared between these modules but
are no part of that face."""
