"""The one error a stage's core raises for bad input."""


class InvalidArticle(Exception):  # noqa: N818 - the name says what the input is, by design
    """Input a stage cannot process; the agent sends it to the stage's dead-letter topic.

    `reason` is short and stable (it becomes a metric label); `detail` is for people.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
