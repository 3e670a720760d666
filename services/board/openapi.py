"""The board's JSON API as an OpenAPI 3.1 document (served at /api/openapi.json)."""

from typing import Any

_FILTERS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
     "description": description}
    for name, description in (
        ("entity", "only stories with this top entity (exact name, any case)"),
        ("keyword", "only stories with this keyword (any case)"),
        ("outlet", "only stories with an article from this outlet (any case)"),
        ("language", "only stories in this language (ISO 639-1, e.g. en)"),
        ("q", "only stories whose title contains this text (any case)"),
        ("ended", "1: closed and merged stories too (default: live stories only)"),
    )
]

_SOURCE = {"type": "object", "properties": {
    "source": {"type": "string"}, "articles": {"type": "integer"}}}
_ENTITY = {"type": "object", "properties": {
    "text": {"type": "string"}, "label": {"type": "string"}, "articles": {"type": "integer"}}}
_STORY = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "version": {"type": "integer"},
        "event": {"enum": ["created", "updated", "closed", "merged", "split"]},
        "live": {"type": "boolean", "description": "not closed or merged"},
        "language": {"type": "string"}, "title": {"type": "string"},
        "article_count": {"type": "integer"}, "duplicate_count": {"type": "integer"},
        "source_count": {"type": "integer"},
        "sources": {"type": "array", "items": _SOURCE, "description": "up to 20, most first"},
        "top_entities": {"type": "array", "items": _ENTITY},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "first_seen": {"type": "string", "format": "date-time"},
        "last_seen": {"type": "string", "format": "date-time"},
        "merged_into": {"type": ["string", "null"]}, "split_into": {"type": ["string", "null"]},
    },
}
_ARTICLE = {"type": "object", "properties": {
    "article_id": {"type": "string"}, "source": {"type": "string"},
    "headline": {"type": "string"}, "url": {"type": ["string", "null"]},
    "language": {"type": "string"},
    "published_at": {"type": ["string", "null"], "format": "date-time"},
    "ingested_at": {"type": "string", "format": "date-time"},
    "duplicate_of": {"type": ["string", "null"], "description": "a syndicated copy of this"},
}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "storywire story board", "version": "1",
             "description": "Live stories read from the stories and stories.members topics."},
    "paths": {
        "/api/stories": {"get": {
            "summary": "Live stories, most active first",
            "parameters": _FILTERS + [
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 50}},
            ],
            "responses": {"200": {"description": "a page of stories", "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "total": {"type": "integer"}, "offset": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "stories": {"type": "array", "items": _STORY}}}}}}},
        }},
        "/api/stories/{story_id}": {"get": {
            "summary": "One story with its articles, entities by type and lifecycle",
            "parameters": [{"name": "story_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "the story", "content": {"application/json": {
                    "schema": {"allOf": [_STORY, {"type": "object", "properties": {
                        "articles": {"type": "array", "items": _ARTICLE},
                        "articles_listed_max": {"type": "integer"},
                        "entities_by_type": {"type": "object"},
                        "lifecycle": {"type": "array", "items": {"type": "object"}},
                    }}]}}}},
                "404": {"description": "no such story on the board"},
            },
        }},
        "/api/stream": {"get": {
            "summary": "Server-Sent Events: `story` (a story's new state, as listed) for each "
                       "change that matches the filters; `gone` ({id}) for a story that no "
                       "longer matches; `ready` once the board has caught up with its topics",
            "parameters": _FILTERS + [
                {"name": "story", "in": "query", "schema": {"type": "string"},
                 "description": "one story's changes only"}],
            "responses": {"200": {"description": "an event stream",
                                  "content": {"text/event-stream": {}}}},
        }},
        "/api/status": {"get": {
            "summary": "Whether the board has read the topics up to their ends at start",
            "responses": {"200": {"description": "reader status"}},
        }},
    },
}
