class DataError(ValueError):
    """Bad or missing data, with a message meant for the person who supplied it."""


class DatasetMissing(DataError):
    """A dataset is neither under the data root nor downloadable right now.

    `sentence` says in one sentence what is missing and where it was looked for; `what` names
    the dataset ("MNIST"); `dataset` is its name in data.core.download (None where a download
    would not help, e.g. a damaged copy). str() adds the command line's two ways to get it; an
    app shows `sentence`, or its own words from `what`, since its user has no options to pass."""

    def __init__(self, sentence: str, *, what: str = "", where=None, dataset: str | None = None):
        self.sentence, self.what, self.where, self.dataset = sentence, what, where, dataset
        hint = ""
        if dataset:
            from data.core.download import TASKS     # a task's name fetches all it needs in one command
            name = next((task for task, names in TASKS.items() if dataset in names), dataset)
            hint = (f" Point --data or BACKPROP_DATA at a folder that has it, or download it: "
                    f"python -m data.core.download {name}")
        super().__init__(sentence + hint)

    def and_download_failed(self, reason: str) -> "DatasetMissing":
        """The same dataset, missing still: its sentence now says why downloading it failed too."""
        return DatasetMissing(f"{self.sentence[:-1]}, and downloading it failed: {reason}.", what=self.what,
                              where=self.where, dataset=self.dataset)
