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
    original: Base64Bytes = Field(
        description="the original message value, byte for byte; only its first bytes when "
        "`truncated` (a letter must fit the message size limit like any other message)"
    )
    # Set only on a truncated letter (a letter that fits is written without them, so it reads
    # as before): what the whole original was, to find or verify it elsewhere.
    truncated: bool = False
    original_length: int | None = Field(default=None, ge=0, description="bytes of the whole")
    original_sha256: str | None = Field(
        default=None, pattern="^[0-9a-f]{64}$", description="sha256 of the whole original"
    )
    failed_at: AwareDatetime
