import { pageHead } from "./page-head";
import { TOKEN_SIGN_IN } from "./page-sign-in";

/**
 * The cluster console page (one file, no build step, no external asset): it
 * asks for the operator token once (kept in sessionStorage), then reads
 * `/api/state` every second and renders processes, rooms per node and the
 * event feed; Drain / Undrain / Move call the API (docs/console.md).
 */
export const CONSOLE_PAGE = `${pageHead("Rookery cluster console", "--up: #067647; --down: #b42318; --drain: #b54708;")}
  header .meta { color: var(--muted); font-size: 13px; }
  main { display: grid; grid-template-columns: minmax(0, 2fr) minmax(280px, 1fr); gap: 16px; padding: 16px 20px; }
  @media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
  section.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 16px; overflow-x: auto; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  h3 { font-size: 14px; margin: 12px 0 6px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; }
  td.members { white-space: normal; }
  .status { font-weight: 600; }
  .status.up { color: var(--up); } .status.down, .status.left { color: var(--down); } .status.draining { color: var(--drain); }
  tr.down td, tr.left td { background: #fef3f2; }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
  button:hover { border-color: var(--accent); color: var(--accent); }
  select { font: inherit; padding: 1px 4px; }
  #events { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow-y: auto; }
  #events li { padding: 6px 0; border-bottom: 1px solid var(--line); }
  #events time { color: var(--muted); font-size: 12px; display: block; }
  #events li.process-down, #events li.process-left { color: var(--down); }
  #events li.rooms-rehomed { color: var(--accent); }
  #events li.drain-started, #events li.drain-finished { color: var(--drain); }
  .empty { color: var(--muted); }
  #login { max-width: 420px; margin: 60px auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px; }
  #login input { width: 100%; padding: 6px 8px; font: inherit; margin: 8px 0; }
  #error { color: var(--down); margin: 0 0 8px; }
  #error:empty { display: none; }
</style>
</head>
<body>
<header>
  <h1>Rookery cluster console</h1>
  <span class="meta" id="updated">not connected</span>
  <span class="meta" id="summary"></span>
  <a class="meta" href="/playground">room playground</a>
</header>
<form id="login" hidden>
  <h2>Operator token</h2>
  <label for="token">The token this console was started with (<span class="mono">--token</span>)</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button id="signin" type="submit">Open the console</button>
  <p id="login-error" class="empty"></p>
</form>
<main id="app" hidden>
  <div>
    <section class="card">
      <h2>Processes</h2>
      <table id="processes"><thead><tr><th>Id</th><th>Role</th><th>Status</th><th>Region</th><th>Load</th><th>Rooms</th><th>Epoch</th><th>Age</th><th>Heartbeat</th><th></th></tr></thead><tbody></tbody></table>
    </section>
    <section class="card">
      <h2>Rooms per node</h2>
      <div id="rooms"></div>
    </section>
  </div>
  <div>
    <section class="card">
      <h2>Cluster events</h2>
      <p id="error"></p>
      <ul id="events"></ul>
    </section>
  </div>
</main>
<script>
"use strict";
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem("rookery-console-token") || "";
let state = null;
let timer = null;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "-" : String(c)));
  return e;
}

function rel(isoText) {
  if (!isoText) return "-";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(isoText)) / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: { authorization: "Bearer " + token, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) { showLogin("That token was refused."); throw new Error("unauthorized"); }
  if (!res.ok || data.ok === false) throw new Error(data.error || "HTTP " + res.status);
  return data;
}

function showLogin(message) {
  clearInterval(timer);
  sessionStorage.removeItem("rookery-console-token");
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}

async function refresh() {
  try {
    state = await api("/api/state");
    render();
    $("#updated").textContent = "updated " + new Date(state.at).toLocaleTimeString();
  } catch (e) {
    if (e.message !== "unauthorized") $("#updated").textContent = "console unreachable: " + e.message;
  }
}

async function act(label, path, body) {
  $("#error").textContent = "";
  try {
    await api(path, body);
    await refresh();
  } catch (e) {
    $("#error").textContent = label + " failed: " + e.message;
  }
}

function render() {
  const nodes = state.processes.filter((p) => p.role === "node");
  const liveNodes = nodes.filter((p) => p.status === "up");
  $("#summary").textContent = state.processes.filter((p) => p.status !== "down" && p.status !== "left").length +
    " processes, " + state.rooms.length + " rooms";
  const body = $("#processes tbody");
  body.replaceChildren(...state.processes.map((p) => {
    const actions = el("td");
    if (p.role === "node" && p.status === "up") {
      actions.append(el("button", { class: "drain", "data-node": p.id, onclick: () => act("drain " + p.id, "/api/drain", { node: p.id }) }, "Drain"));
    } else if (p.role === "node" && p.status === "draining") {
      actions.append(el("button", { class: "undrain", "data-node": p.id, onclick: () => act("undrain " + p.id, "/api/undrain", { node: p.id }) }, "Undrain"));
    }
    const status = p.status === "draining" && p.drain
      ? "draining " + (p.drain.moved + p.drain.failed) + "/" + p.drain.total
      : p.status;
    return el("tr", { class: p.status, "data-process": p.role + "." + p.id },
      el("td", { class: "id" }, p.id), el("td", {}, p.role),
      el("td", {}, el("span", { class: "status " + p.status }, status)),
      el("td", {}, p.region), el("td", {}, p.load), el("td", { class: "room-count" }, p.rooms == null ? "" : p.rooms),
      el("td", { class: "mono" }, (p.epoch || "").slice(0, 8)), el("td", {}, rel(p.started)),
      el("td", {}, rel(p.lastBeat) + " ago"), actions);
  }));

  const byOwner = new Map();
  for (const n of nodes) byOwner.set(n.id, []);
  for (const r of state.rooms) {
    if (!byOwner.has(r.owner)) byOwner.set(r.owner, []);
    byOwner.get(r.owner).push(r);
  }
  const sections = [];
  for (const [owner, rooms] of byOwner) {
    const proc = nodes.find((n) => n.id === owner);
    const status = proc ? proc.status : "down";
    const heading = el("h3", {}, owner + " ", el("span", { class: "status " + status }, status), " · " + rooms.length + " room(s)");
    const table = el("table", { class: "node-rooms", "data-node": owner });
    table.append(el("thead", {}, el("tr", {}, ...["Room", "Epoch", "Members", "Leader", "Age", ""].map((h) => el("th", {}, h)))));
    const tbody = el("tbody");
    for (const r of rooms) {
      const move = el("td");
      if (status === "up" || status === "draining") {
        const select = el("select", { class: "move-to", "aria-label": "move " + r.room + " to" });
        select.append(el("option", { value: "" }, "least loaded"));
        for (const n of liveNodes) if (n.id !== owner) select.append(el("option", { value: n.id }, n.id));
        move.append(select, " ", el("button", { class: "move", "data-room": r.room,
          onclick: () => act("move " + r.room, "/api/move", { room: r.room, to: select.value || undefined }) }, "Move"));
      }
      const members = r.members.length ? r.members.map((m) => m.name || m.user || m.member).join(", ") : "(empty)";
      tbody.append(el("tr", { "data-room": r.room },
        el("td", { class: "mono" }, r.room), el("td", {}, r.roomEpoch),
        el("td", { class: "members" }, r.members.length + ": " + members), el("td", { class: "leader" }, r.leader || "-"),
        el("td", {}, rel(r.since)), move));
    }
    if (!rooms.length) tbody.append(el("tr", {}, el("td", { class: "empty", colSpan: 6 }, "no rooms")));
    table.append(tbody);
    sections.push(el("div", { class: "node", "data-node": owner }, heading, table));
  }
  $("#rooms").replaceChildren(...(sections.length ? sections : [el("p", { class: "empty" }, "no node")]));

  const feed = [...state.events].reverse();
  $("#events").replaceChildren(...(feed.length ? feed.map((e) =>
    el("li", { class: e.kind, "data-kind": e.kind }, el("time", { dateTime: e.at }, new Date(e.at).toLocaleTimeString()), e.text))
    : [el("li", { class: "empty" }, "nothing happened yet")]));
}

function open() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 1000);
}

${TOKEN_SIGN_IN}</script>
</body>
</html>
`;
