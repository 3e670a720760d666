// storywire board: live updates over Server-Sent Events. Every piece of copy (titles, outlets,
// names, headlines) is inserted with textContent, never as HTML; a link goes out only to an
// http(s) address.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

function plural(n, word) {
  return n + " " + word + (n === 1 ? "" : "s");
}

function httpHref(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

function storyCard(story) {
  const li = el("li", "story");
  li.dataset.id = story.id;
  li.dataset.count = String(story.article_count);
  li.dataset.last = story.last_seen;
  const title = el("a", "title", story.title);
  title.href = "/stories/" + encodeURIComponent(story.id);
  li.appendChild(title);
  const meta = el("p", "meta");
  meta.appendChild(el("span", "size",
    plural(story.article_count, "article") + " · " + plural(story.source_count, "outlet")));
  meta.appendChild(document.createTextNode(" · "));
  meta.appendChild(el("span", "seen", when(story.first_seen) + " – " + when(story.last_seen)));
  if (!story.live) {
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "ended", story.event));
  }
  li.appendChild(meta);
  const outlets = el("p", "outlets");
  for (const s of story.sources.slice(0, 6)) outlets.appendChild(el("span", "outlet", s.source));
  li.appendChild(outlets);
  const entities = el("p", "entities");
  for (const e of story.top_entities.slice(0, 6)) {
    const a = el("a", "entity", e.text);
    a.href = "/?" + new URLSearchParams({ entity: e.text }).toString();
    entities.appendChild(a);
  }
  li.appendChild(entities);
  return li;
}

// Most active first, as the server orders them: most articles, then the latest copy.
function before(a, b) {
  const ca = Number(a.dataset.count), cb = Number(b.dataset.count);
  if (ca !== cb) return ca > cb;
  return a.dataset.last > b.dataset.last;
}

function findCard(list, id) {
  for (const card of list.children) if (card.dataset.id === id) return card;
  return null;
}

function setTotal(delta) {
  const total = document.getElementById("total");
  if (total) total.textContent = String(Math.max(0, Number(total.textContent) + delta));
}

function placeCard(list, story) {
  const old = findCard(list, story.id);
  const card = storyCard(story);
  if (old) old.remove(); else setTotal(1);
  let next = null;
  for (const other of list.children) {
    if (before(card, other)) { next = other; break; }
  }
  list.insertBefore(card, next);
  card.classList.add("fresh");
}

function connect(address, handlers, onReconnect) {
  const state = document.getElementById("live-state");
  const source = new EventSource(address);
  let opened = false;
  source.addEventListener("open", () => {
    if (state) state.textContent = "live";
    // Changes made while the stream was down were missed: catch up once.
    if (opened && onReconnect) onReconnect();
    opened = true;
  });
  source.addEventListener("error", () => { if (state) state.textContent = "reconnecting…"; });
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (message) => handler(JSON.parse(message.data)));
  }
  return source;
}

function frontPage(list) {
  const query = new URL(list.dataset.stream, location.href).search;
  async function reloadList() {
    const response = await fetch("/api/stories" + query);
    if (!response.ok) return;
    const page = await response.json();
    list.replaceChildren(...page.stories.map(storyCard));
    const total = document.getElementById("total");
    if (total) total.textContent = String(page.total);
  }
  connect(list.dataset.stream, {
    story: (story) => placeCard(list, story),
    gone: (gone) => {
      const card = findCard(list, gone.id);
      if (card) { card.remove(); setTotal(-1); }
    },
    ready: () => {
      reloadList();
      const reading = document.getElementById("reading");
      if (reading) reading.remove();
    },
  }, reloadList);
}

function articleItem(a) {
  const li = el("li", "article" + (a.duplicate_of ? " syndicated" : ""));
  li.dataset.id = a.article_id;
  const time = el("time", null,
    when(a.published_at || a.ingested_at) + (a.published_at ? "" : " (received)"));
  if (!a.published_at) time.title = "no publication time: when storywire received it";
  li.appendChild(time);
  li.appendChild(document.createTextNode(" "));
  li.appendChild(el("span", "outlet", a.source));
  li.appendChild(document.createTextNode(" "));
  const href = httpHref(a.url);
  const headline = el(href ? "a" : "span", "headline", a.headline);
  if (href) { headline.href = href; headline.rel = "noopener noreferrer nofollow"; }
  li.appendChild(headline);
  if (a.duplicate_of) {
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "copy", "syndicated copy"));
  }
  return li;
}

function storyPage(article) {
  const id = article.dataset.id;
  let pending = false;
  async function refresh() {
    if (pending) return;
    pending = true;
    try {
      const response = await fetch("/api/stories/" + encodeURIComponent(id));
      if (!response.ok) return;
      const story = await response.json();
      document.getElementById("story-title").textContent = story.title;
      document.getElementById("story-size").textContent =
        plural(story.article_count, "article") + " · " + plural(story.source_count, "outlet") +
        (story.duplicate_count ? " · " + story.duplicate_count + " syndicated" : "");
      document.getElementById("story-last").textContent = when(story.last_seen);
      document.getElementById("story-event").textContent = story.event;
      const list = document.getElementById("articles");
      list.replaceChildren(...story.articles.map(articleItem));
    } finally {
      pending = false;
    }
  }
  connect(article.dataset.stream, { story: refresh, gone: refresh, ready: refresh }, refresh);
}

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("stories");
  if (list) frontPage(list);
  const story = document.getElementById("story");
  if (story) storyPage(story);
});
