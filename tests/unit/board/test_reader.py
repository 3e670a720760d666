"""One record from either topic into the board: events, members, tombstones, foreign bytes."""

from schemas.stories import StoryEventV1
from services.board.core import Board
from services.board.reader import ReaderStatus, apply_record
from tests.unit.board.test_core import NOW, member, story


def test_events_and_members_change_their_story_and_say_which() -> None:
    board, status = Board(), ReaderStatus()
    event = story("st-1").model_dump_json().encode()
    assert apply_record(board, status, True, b"st-1", event) == "st-1"
    assert apply_record(board, status, True, b"st-1", event) is None  # a repeat: no change
    record = member("a/1", "st-1").model_dump_json().encode()
    assert apply_record(board, status, False, b"a/1", record) == "st-1"
    assert [m.article_id for m in board.articles("st-1")] == ["a/1"]
    assert (status.stories_read, status.members_read, status.unreadable) == (2, 1, 0)


def test_tombstones_remove_the_member_and_the_story() -> None:
    board, status = Board(), ReaderStatus()
    apply_record(board, status, True, b"st-1", story("st-1").model_dump_json().encode())
    apply_record(board, status, False, b"a/1", member("a/1", "st-1").model_dump_json().encode())
    assert apply_record(board, status, False, b"a/1", None) == "st-1"
    assert board.articles("st-1") == []
    assert apply_record(board, status, True, b"st-1", None) == "st-1"
    assert board.detail("st-1") is None


def test_a_v1_event_or_foreign_bytes_are_counted_and_skipped() -> None:
    board, status = Board(), ReaderStatus()
    v1 = StoryEventV1(
        story_id="st-1", version=1, event="created", language="en", title="Kerry in Moscow",
        article_ids=("a/1",), sources=("xinhua",), article_count=1, first_seen=NOW,
        last_seen=NOW,
    )
    assert apply_record(board, status, True, b"st-1", v1.model_dump_json().encode()) is None
    assert apply_record(board, status, False, b"a/1", b"{not json") is None
    assert apply_record(board, status, True, b"st-2", b"[" * 100_000) is None
    assert status.unreadable == 3 and board.stories == {}
