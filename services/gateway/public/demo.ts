/**
 * The demo page's script (bundled on the gateway with esbuild): the same
 * client SDK the tests use, joining a "party" room of the example rooms.
 */
import { connect, type Room, type RookeryClient } from "@rookery/client";

interface Item {
  id: string;
  title: string;
  addedBy: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let client: RookeryClient | undefined;
let room: Room | undefined;
let items: Item[] = [];

function text(tag: string, content: string, className = ""): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

function renderMembers(): void {
  if (!room) return;
  const list = $("members");
  list.replaceChildren(
    ...room.members.map((m) => {
      const li = text("li", m.name || m.user);
      li.dataset.member = m.id;
      if (m.id === room!.leader) li.append(text("span", "leader", "badge"));
      if (m.id === client?.member) li.append(text("span", " (you)"));
      return li;
    }),
  );
  $("count").textContent = `(${room.members.length})`;
  $("skip").hidden = room.leader !== client?.member;
}

function renderQueue(): void {
  $("queue").replaceChildren(
    ...items.map((item, i) => text("li", item.title, i === 0 ? "playing" : "")),
  );
}

async function join(name: string, roomId: string): Promise<void> {
  const user = `${name.replace(/[^A-Za-z0-9_-]/g, "") || "guest"}-${Math.random().toString(36).slice(2, 6)}`;
  const token = async () => {
    const res = await fetch(
      `/demo/token?user=${encodeURIComponent(user)}&name=${encodeURIComponent(name)}`,
    );
    return ((await res.json()) as { token: string }).token;
  };
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  client = await connect({ url, token });
  client.on("state", (state) => {
    $("status").dataset.state = state;
    $("status").textContent = state;
  });
  $("status").dataset.state = client.state;
  $("status").textContent = client.state;
  room = await client.join("party", roomId);
  items = ((room.state as { items?: Item[] } | undefined)?.items ?? []).slice();
  room.on("members", renderMembers);
  room.on("leader", renderMembers);
  room.on("snapshot", (state) => {
    items = ((state as { items?: Item[] } | undefined)?.items ?? []).slice();
    renderQueue();
  });
  room.onEvent("queue", (body) => {
    items = (body as unknown as { items: Item[] }).items;
    renderQueue();
  });
  $("room-name").textContent = roomId;
  $("room-view").hidden = false;
  $("join-form").hidden = true;
  $("error").textContent = "";
  renderMembers();
  renderQueue();
}

/** Leaves the room and closes the connection: back to the join form. */
async function leave(): Promise<void> {
  const leaving = room;
  room = undefined;
  await leaving?.leave().catch(() => undefined);
  client?.close();
  client = undefined;
  items = [];
  $("members").replaceChildren();
  $("queue").replaceChildren();
  $("room-view").hidden = true;
  $("join-form").hidden = false;
  $("status").dataset.state = "idle";
  $("status").textContent = "not connected";
}

const ROOM_HELP =
  "A room name is 1 to 128 letters, digits, underscores, equals signs or hyphens (no spaces).";

/** The browser's own message for a pattern mismatch shows a regular expression: say it in words. */
function checkRoomName(input: HTMLInputElement): void {
  input.setCustomValidity("");
  const bad = input.validity.patternMismatch || input.validity.tooLong;
  if (bad) input.setCustomValidity(ROOM_HELP);
  $("room-help").hidden = !bad;
}

function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  // The server names the field and its pattern: say it in words.
  $("error").textContent = /room\.id/.test(message) ? ROOM_HELP : message;
}

const roomInput = $<HTMLInputElement>("room");
roomInput.addEventListener("input", () => checkRoomName(roomInput));
roomInput.addEventListener("invalid", () => checkRoomName(roomInput));

$("leave").addEventListener("click", () => {
  leave().catch(showError);
});

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $<HTMLInputElement>("name").value.trim();
  join(name, $<HTMLInputElement>("room").value.trim()).catch(showError);
});

$("add-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("title");
  const title = input.value.trim();
  input.value = "";
  room?.send("add", { title }).catch(showError);
});

$("skip").addEventListener("click", () => {
  room?.send("skip", {}).catch(showError);
});
