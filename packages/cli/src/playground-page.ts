import { pageHead } from "./page-head";
import { TOKEN_SIGN_IN } from "./page-sign-in";

/**
 * The room playground page (one file, no build step): same operator token as
 * the console (sessionStorage), joins rooms as made-up users through the
 * console's `/api/play/…` API, one panel per user side by side; each panel
 * sends inputs by type with a JSON body and polls its event stream
 * (docs/console.md).
 */
export const PLAYGROUND_PAGE = `${pageHead("Rookery room playground", "--bad: #b42318;")}
  a { color: var(--accent); }
  form.join { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; padding: 12px 20px; }
  label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
  input, textarea, select { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 6px; }
  textarea { width: 100%; min-height: 60px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  button { font: inherit; padding: 4px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
  button:hover { border-color: var(--accent); color: var(--accent); }
  #players { display: flex; flex-wrap: wrap; gap: 16px; padding: 0 20px 20px; align-items: flex-start; }
  .player { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; flex: 1 1 360px; max-width: 640px; min-width: 0; }
  .player h2 { font-size: 15px; margin: 0 0 8px; display: flex; justify-content: space-between; gap: 8px; }
  h3 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); }
  pre { margin: 0; background: var(--bg); padding: 6px 8px; border-radius: 6px; overflow: auto; max-height: 220px; font-size: 12px; }
  .send { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
  .error { color: var(--bad); margin: 4px 0; }
  .error:empty { display: none; }
  .result { color: var(--muted); margin: 4px 0; font-size: 12px; }
  ul.events { list-style: none; margin: 0; padding: 0; max-height: 300px; overflow-y: auto; font-size: 12px; }
  ul.events li { padding: 3px 0; border-bottom: 1px solid var(--line); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; word-break: break-all; }
  ul.events li .t { font-weight: 600; color: var(--accent); }
  #login { max-width: 420px; margin: 60px auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px; }
  #login input { width: 100%; margin: 8px 0; }
  #join-error { color: var(--bad); padding: 0 20px; }
  #join-error:empty { display: none; }
</style>
</head>
<body>
<header>
  <h1>Rookery room playground</h1>
  <a href="/">cluster console</a>
</header>
<form id="login" hidden>
  <h2>Operator token</h2>
  <label for="token">The token this console was started with</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button id="signin" type="submit">Open the playground</button>
  <p id="login-error"></p>
</form>
<div id="app" hidden>
  <form class="join" id="join">
    <label>Room type <input id="type" list="types" value="party" required size="12"></label>
    <datalist id="types"></datalist>
    <label>Room id <input id="room" value="play-1" required size="14"></label>
    <label>User <input id="user" value="ann" required size="10"></label>
    <button id="join-button" type="submit">Join</button>
  </form>
  <p id="join-error"></p>
  <div id="players"></div>
</div>
<script>
"use strict";
const $ = (s, root = document) => root.querySelector(s);
let token = sessionStorage.getItem("rookery-console-token") || "";
const NAMES = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal"];

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: { authorization: "Bearer " + token, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) { showLogin("That token was refused."); throw new Error("unauthorized"); }
  if (!res.ok) throw new Error(data.error || "HTTP " + res.status);
  return data;
}

function showLogin(message) {
  sessionStorage.removeItem("rookery-console-token");
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const show = (v) => JSON.stringify(v, null, 2);

async function join(type, room, user) {
  $("#join-error").textContent = "";
  let joined;
  try {
    joined = await api("/api/play/join", { type, room, user });
  } catch (e) {
    $("#join-error").textContent = "join failed: " + e.message;
    return;
  }
  const panel = el("section", { class: "player", "data-user": user, "data-session": joined.session });
  const state = el("pre", { class: "state" }, show(joined.state));
  const members = el("pre", { class: "members" }, show({ members: joined.members, leader: joined.leader }));
  const inputType = el("input", { class: "input-type", value: type === "party" ? "add" : "", placeholder: "input type", size: 12 });
  const inputBody = el("textarea", { class: "input-body", value: type === "party" ? '{"title":"Song 1"}' : "{}" });
  const error = el("p", { class: "error" });
  const result = el("p", { class: "result" });
  const events = el("ul", { class: "events" });
  let after = 0;
  let timer = null;
  const send = el("button", { class: "send-input", type: "button", onclick: async () => {
    error.textContent = "";
    result.textContent = "";
    let body;
    try {
      body = JSON.parse(inputBody.value);
    } catch (e) {
      error.textContent = "invalid JSON body: " + e.message;
      return;
    }
    try {
      const r = await api("/api/play/input", { session: joined.session, type: inputType.value.trim(), body });
      if (r.ok) result.textContent = "acked seq " + r.seq + (r.result == null ? "" : ": " + JSON.stringify(r.result));
      else error.textContent = "refused (seq " + r.seq + "): " + (r.code ? r.code + ": " : "") + r.error;
    } catch (e) {
      error.textContent = "input failed: " + e.message;
    }
  } }, "Send");
  const leave = el("button", { class: "leave", type: "button", onclick: async () => {
    clearInterval(timer);
    await api("/api/play/leave", { session: joined.session }).catch(() => {});
    panel.remove();
  } }, "Leave");
  const another = el("button", { class: "another", type: "button", onclick: () => {
    const taken = new Set([...document.querySelectorAll(".player")].map((p) => p.dataset.user));
    const next = NAMES.find((n) => !taken.has(n)) || "user-" + Math.floor(Math.random() * 1000);
    join(type, room, next);
  } }, "+ another user here");
  panel.append(
    el("h2", {}, el("span", {}, user + " in " + joined.room), el("span", {}, another, " ", leave)),
    el("div", { class: "result" }, "member " + joined.member + " · room epoch " + joined.epoch),
    el("h3", {}, "State (at join; later changes arrive as events)"), state,
    el("h3", {}, "Members"), members,
    el("h3", {}, "Send an input"),
    el("div", { class: "send" }, el("label", {}, "type", inputType), send),
    el("label", {}, "JSON body", inputBody), error, result,
    el("h3", {}, "Events (newest last)"), events,
  );
  $("#players").append(panel);
  const poll = async () => {
    try {
      const r = await api("/api/play/events?session=" + encodeURIComponent(joined.session) + "&after=" + after);
      for (const e of r.events) {
        events.append(el("li", { "data-type": e.type }, el("span", { class: "t" }, e.type), " #" + e.seq + (e.private ? " (to you)" : "") + " " + JSON.stringify(e.body)));
        events.scrollTop = events.scrollHeight;
      }
      after = r.last;
    } catch (e) {
      if (e.message !== "unauthorized") error.textContent = "events: " + e.message;
      clearInterval(timer);
    }
  };
  timer = setInterval(poll, 400);
  poll();
}

$("#join").addEventListener("submit", (ev) => {
  ev.preventDefault();
  join($("#type").value.trim(), $("#room").value.trim(), $("#user").value.trim());
});

async function open() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  try {
    const { types } = await api("/api/play/types");
    $("#types").replaceChildren(...types.map((t) => el("option", { value: t })));
  } catch (e) {
    if (e.message !== "unauthorized") $("#join-error").textContent = e.message;
  }
}

${TOKEN_SIGN_IN}</script>
</body>
</html>
`;
