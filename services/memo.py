"""A bounded memo for pure functions over the words of copy, shared by the stages."""

from collections.abc import Callable
from typing import Any


class Memo(dict[Any, Any]):
    """A pure function's results by argument, computed on first sight, emptied when full.
    News copy repeats its vocabulary, so most look-ups are hits; `map(memo.__getitem__, ...)`
    reads a hit in C at about half the cost of an `lru_cache` hit (no recency to update)."""

    def __init__(self, function: Callable[[Any], Any], size: int) -> None:
        super().__init__()
        self.function = function
        self.size = size

    def __missing__(self, argument: Any) -> Any:
        if len(self) >= self.size:
            self.clear()
        result = self[argument] = self.function(argument)
        return result
