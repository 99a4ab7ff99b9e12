"""pandas, imported on first use."""


class lazy_pandas:
    """Stands in for the pandas module and imports it on first attribute access.

    Importing pandas costs about 30 MB of memory; the compiled simulations never use it, so
    a process that only evaluates policies stays small.
    """

    def __getattr__(self, name):
        import pandas
        return getattr(pandas, name)
