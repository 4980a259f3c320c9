"""The built-in named query library (shipped inside the package as ``rumq.queries``)."""
