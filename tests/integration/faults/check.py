"""Nothing lost, nothing doubled: what the fault suite checks after each scenario.

A small stand-in for `storywire audit` until it lands, and a second opinion after:
it reads the `stories` topic (the latest event of each story by version), `stories.members`
(the latest record of each article: its story now) and every dead-letter topic, and accounts
for each message a scenario fed in:
- a good article must be in exactly one standing story, once (its member record names a story
  not merged away), and each standing story must count exactly the articles naming it;
- a hostile message must be in a dead letter with a reason (matched by topic, partition and
  offset), or, where the catalogue says it is valid after all, its article in exactly one story;
  a tick that should have no effect must not crash anything (the worker logs say).
`settle` waits until every stage's consumer group has caught up with its input topics (or has
stopped moving), so a stage that halted on a message shows as a finding rather than a hang.
"""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from lab.pipeline import settings_env
from schemas.articles import RawArticleV1
from schemas.deadletter import DeadLetterV1
from schemas.stories import StoryEventV2, StoryMemberV1
from schemas.topics import DEAD_LETTER_TOPICS, Topic
from services.identity import article_key
from services.kafka import admin_client, client_config
from services.settings import Settings
from tests.conftest import REPO
from tests.integration.faults.hostile import HostileCase

# The input topics of each stage's consumer group (faust names the group after the app id,
# `Settings.group(stage)`).
STAGE_INPUTS: dict[str, tuple[Topic, ...]] = {
    "clean": (Topic.RAW,),
    "enrich": (Topic.CLEAN,),
    "cluster": (Topic.ENRICHED, Topic.CLUSTER_TICKS),
}


@dataclass(frozen=True)
class Sent:
    """One hostile message as the broker acknowledged it."""

    case: HostileCase
    topic: str
    partition: int
    offset: int


@dataclass
class Findings:
    """What the stories and dead letters say about everything a scenario fed in."""

    good: int = 0
    hostile: int = 0
    in_one_story: int = 0
    dead_lettered: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    # Hostile messages that ended up somewhere, just not where the catalogue says they belong.
    misplaced: list[str] = field(default_factory=list)
    # Stories closed although every article was ingested within the story window.
    closed: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)  # stages that stopped short of their input
    crashes: list[str] = field(default_factory=list)  # worker exits and agent crashes
    audit: dict[str, object] | None = None

    def problems(self) -> list[str]:
        found = [f"lost: {item}" for item in self.lost]
        found += [f"doubled: {item}" for item in self.doubled]
        found += [f"misplaced: {item}" for item in self.misplaced]
        if self.closed:
            found.append(f"closed early: {len(self.closed)} stories, e.g. {self.closed[:3]}")
        found += [f"stalled: {item}" for item in self.stalled]
        found += [f"crash: {item}" for item in self.crashes]
        if self.audit is not None and self.audit.get("exit_code") != 0:
            found.append(f"storywire audit exited {self.audit['exit_code']}: {self.audit}")
        return found

    def figures(self) -> dict[str, object]:
        return {
            "good": self.good,
            "hostile": self.hostile,
            "in_one_story": self.in_one_story,
            "dead_lettered": self.dead_lettered,
            "lost": len(self.lost),
            "doubled": len(self.doubled),
            "misplaced": len(self.misplaced),
            "stalled": self.stalled,
            "crashes": len(self.crashes),
            "audit": self.audit,
        }


def _read_all(
    settings: Settings, topics: Iterable[str]
) -> list[tuple[str, int, int, bytes | None]]:
    """Every message now on `topics`, up to their current end offsets."""
    consumer = KafkaConsumer(
        **client_config(settings), group_id=None, enable_auto_commit=False,
        client_id="storywire-fault-check", max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        messages = []
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topics} to their ends")
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    messages.append((record.topic, record.partition, record.offset, record.value))
        return messages
    finally:
        consumer.close()


def lag(settings: Settings) -> dict[str, int]:
    """How many input messages each stage's consumer group has not committed yet."""
    admin = admin_client(settings)
    consumer = KafkaConsumer(**client_config(settings), group_id=None)
    try:
        behind = {}
        for stage, inputs in STAGE_INPUTS.items():
            partitions = [
                TopicPartition(settings.topic(topic), p)
                for topic in inputs
                for p in sorted(consumer.partitions_for_topic(settings.topic(topic)) or ())
            ]
            ends = consumer.end_offsets(partitions)
            group = settings.group(stage)
            committed: dict[TopicPartition, OffsetAndMetadata] = (
                admin.list_group_offsets({group: None}).get(group, {})
            )
            behind[stage] = sum(
                end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items()
            )
        return behind
    finally:
        consumer.close()
        admin.close()


def input_end(settings: Settings, stage: str) -> int:
    """How many messages `stage`'s input topics hold (the sum of their end offsets)."""
    consumer = KafkaConsumer(**client_config(settings), group_id=None)
    try:
        partitions = [
            TopicPartition(settings.topic(topic), p)
            for topic in STAGE_INPUTS[stage]
            for p in sorted(consumer.partitions_for_topic(settings.topic(topic)) or ())
        ]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def settle(
    settings: Settings, check: Callable[[], None], timeout_s: float = 240.0, stall_s: float = 30.0
) -> list[str]:
    """Wait until every stage has committed all of its input, or `timeout_s` passes, or a
    stage's lag stays the same for `stall_s`; return the stages left behind, each with why.
    `check` (LocalPipeline.check) raises if a worker died."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, int] = {}
    moved = time.monotonic()
    caught_up_rounds = 0
    while True:
        check()
        behind = lag(settings)
        if behind != last:
            last, moved = behind, time.monotonic()
        if not any(behind.values()):
            caught_up_rounds += 1
            if caught_up_rounds >= 2:  # the last commit covers the last outputs' inputs
                return []
        else:
            caught_up_rounds = 0
        now = time.monotonic()
        if now > deadline or now - moved > stall_s:
            why = "timed out" if now > deadline else f"no progress for {stall_s:.0f}s"
            return [f"{stage}: {count} input messages not done ({why})"
                    for stage, count in behind.items() if count]
        time.sleep(1.0)


def _identities(source: str, article_id: str) -> set[str]:
    """The ids an article may carry downstream: its key (`article_key`) when it came in on
    articles.raw, or the id as written when it was written straight to a later topic."""
    return {article_id, article_key(source, article_id)}


def _raw_key(value: bytes | None) -> str | None:
    """The key (`article_key`) of a raw message's article, if the message names one."""
    try:
        document = json.loads(value or b"")
        return article_key(str(document["source"]), str(document["id"]))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def account(
    settings: Settings, good_ids: Iterable[str], sent: Iterable[Sent] = ()
) -> Findings:
    """Read the stories and dead letters and account for every good article and hostile
    message (see the module docstring)."""
    good_ids = list(dict.fromkeys(good_ids))
    sent = list(sent)
    raw_topic = settings.topic(Topic.RAW)
    dead_letter_topics = [settings.topic(t) for t in DEAD_LETTER_TOPICS.values()]
    stories: dict[str, StoryEventV2] = {}
    story_of: dict[str, str | None] = {}  # article id -> its story, by its latest member record
    letters: dict[tuple[str, int, int], DeadLetterV1] = {}
    by_key: dict[str, list[DeadLetterV1]] = {}  # downstream letters by the article key inside
    sources: dict[str, str] = {}  # good article id -> its source, from articles.raw
    good = set(good_ids)
    topics = [
        settings.topic(Topic.STORIES), settings.topic(Topic.MEMBERS), raw_topic,
        *dead_letter_topics,
    ]
    for topic, _partition, _offset, value in _read_all(settings, topics):
        if topic == settings.topic(Topic.MEMBERS):
            member = StoryMemberV1.model_validate_json(value or b"")
            story_of[member.article_id] = member.story_id  # keyed by article: in order
        elif topic == settings.topic(Topic.STORIES):
            story = StoryEventV2.model_validate_json(value or b"")
            known = stories.get(story.story_id)
            if known is None or known.version < story.version:
                stories[story.story_id] = story
        elif topic == raw_topic:
            try:
                raw = RawArticleV1.model_validate_json(value or b"")
            except ValidationError:
                continue
            if raw.id in good:
                sources.setdefault(raw.id, raw.source)
        else:
            dead = DeadLetterV1.model_validate_json(value or b"")
            letters.setdefault((dead.topic, dead.partition, dead.offset), dead)
            if dead.topic != raw_topic:  # a later stage's letter names its article by key
                try:
                    downstream_id = json.loads(dead.original).get("id")
                except (ValueError, AttributeError, RecursionError):
                    downstream_id = None
                if isinstance(downstream_id, str):
                    by_key.setdefault(downstream_id, []).append(dead)

    # How often each downstream article id stands in a story: once by its member record, twice
    # if that names a story merged away (listed there, counted in the one it went into).
    placed: Counter[str] = Counter()
    members_of: Counter[str] = Counter()
    for article_id, story_id in story_of.items():
        holder = stories.get(story_id) if story_id is not None else None
        if holder is not None:
            placed[article_id] = 2 if holder.event == "merged" else 1
            members_of[holder.story_id] += 1
    closed = []
    miscounted = []
    for story in stories.values():
        if story.event == "merged":
            continue
        if story.event == "closed":
            closed.append(f"story {story.story_id} ({story.article_count} articles)")
        if story.article_count != members_of[story.story_id]:
            miscounted.append(
                f"story {story.story_id}: counts {story.article_count} articles, "
                f"{members_of[story.story_id]} member records name it"
            )

    findings = Findings(good=len(good_ids), hostile=len(sent), closed=closed)
    findings.doubled.extend(miscounted)

    def times_placed(source: str | None, article_id: str) -> int:
        ids = _identities(source, article_id) if source is not None else {article_id}
        return sum(placed[i] for i in ids)

    for article_id in good_ids:
        count = times_placed(sources.get(article_id), article_id)
        if count == 1:
            findings.in_one_story += 1
        elif count == 0:
            findings.lost.append(f"good article {article_id}: in no story")
        else:
            findings.doubled.append(f"good article {article_id}: in stories {count} times")

    counted: set[str] = set()  # a redelivered article counts once, however often it was sent
    for message in sent:
        case = message.case
        letter = letters.get((message.topic, message.partition, message.offset))
        if letter is None and message.topic == raw_topic and case.expected == "dead_letter":
            # Refused downstream under its key: a reused id reaches the cluster stage, which
            # alone knows which article the id already names.
            key = _raw_key(case.value)
            refused = [d for d in by_key.get(key or "", []) if d.reason == "reused_id"]
            letter = refused[0] if refused else None
        where = f"{case.name} ({message.topic}:{message.partition}@{message.offset})"
        count = times_placed(case.source, case.article_id) if case.article_id else 0
        if letter is not None:
            findings.dead_lettered += 1
            if not letter.reason:
                findings.misplaced.append(f"{where}: dead letter without a reason")
            elif case.expected == "story":
                findings.misplaced.append(
                    f"{where}: expected {case.expected}, dead-lettered by {letter.stage}"
                    f" ({letter.reason}: {letter.detail[:120]})"
                )
            if count:
                findings.doubled.append(f"{where}: dead-lettered and in {count} stories")
            continue
        if case.expected == "story":
            if count == 1:
                if case.article_id not in counted:
                    findings.in_one_story += 1
                    counted.add(case.article_id or "")
            elif count == 0:
                findings.lost.append(f"{where}: in no story and no dead letter")
            else:
                findings.doubled.append(f"{where}: in stories {count} times")
        elif case.expected == "dead_letter":
            if count:
                findings.misplaced.append(f"{where}: expected a dead letter, in {count} stories")
            else:
                findings.lost.append(f"{where}: in no dead letter")
    return findings


def worker_crashes(log_dir: Path) -> list[str]:
    """Tracebacks and faust agent crashes in the worker logs, one line each:
    `file:line: the log line | the exception the traceback ended with`."""
    found = []
    for log in sorted(log_dir.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if "Traceback" not in line and "crashed" not in line.lower():
                continue
            # A traceback ends with its first unindented line that is not its own header.
            ending = ""
            for later in lines[number:number + 400]:
                if later and not later.startswith((" ", "\t", "Traceback")):
                    ending = later
                    if not later.startswith(("During handling", "The above exception")):
                        break
            found.append(f"{log.name}:{number}: {line.strip()[:200]} | {ending.strip()[:300]}")
    return found


def audit(settings: Settings) -> dict[str, object] | None:
    """`storywire audit --json` on the scenario's topics: its exit code and its report."""
    command = [sys.executable, "-m", "services.cli", "audit"]
    env = {**os.environ, **settings_env(settings)}
    result = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, cwd=REPO, timeout=300,
        env=env,
    )
    report: dict[str, object] = {"exit_code": result.returncode}
    try:
        report.update(json.loads(result.stdout))
    except ValueError:
        report["output"] = (result.stdout + result.stderr)[-2000:]
    return report

