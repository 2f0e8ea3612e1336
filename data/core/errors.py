class DataError(ValueError):
    """Bad or missing data, with a message meant for the person who supplied it."""


class DatasetMissing(DataError):
    """A dataset is neither under the data root nor downloadable right now."""
