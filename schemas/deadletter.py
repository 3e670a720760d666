"""Dead-letter contract: what a stage could not process, and why (topics `dlq.<stage>`)."""

from typing import Literal

from pydantic import AwareDatetime, Base64Bytes, BaseModel, ConfigDict, Field


class DeadLetterV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    stage: Literal["clean", "enrich", "cluster"]
    reason: str = Field(description="short machine-readable reason, e.g. `empty_after_cleaning`")
    detail: str = Field(default="", description="human-readable explanation")
    topic: str = Field(description="topic the original message was read from")
    partition: int
    offset: int
    key: Base64Bytes | None = None
    original: Base64Bytes = Field(description="the original message value, byte for byte")
    failed_at: AwareDatetime
