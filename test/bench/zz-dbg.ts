import { startNatsServer } from "@rookery/testkit";
import { decodeServerFrame } from "@rookery/protocol";
import { startServerProcess } from "/work/main/services/server/test/servers";
import { BENCH_ROOMS, UNLIMITED_RATE } from "/work/main/test/bench/bench-rooms";
import { joinedClient, QueuePlayer } from "/work/main/test/bench/rookery-client";
const nats = await startNatsServer();
const env = { ROOKERY_IDLE_MS: "0", ...BENCH_ROOMS, ...UNLIMITED_RATE };
const s = await startServerProcess(nats.url, "dbg", "co-1", env);
const times: number[] = [];
const players: QueuePlayer[] = [];
const msgs = new Map<string, number>();
for (let i = 0; i < 10; i++) {
  const room = { type: process.argv[2] ?? "eparty", id: "r1" };
  const ws = await joinedClient(s.url, `u${i}`, room);
  ws.on("message", (d: Buffer) => { const f = decodeServerFrame(d); if (f.ok && f.frame.k === "error") msgs.set(f.frame.message, (msgs.get(f.frame.message) ?? 0) + 1); });
  players.push(new QueuePlayer(ws, room, (ms) => times.push(ms), true));
}
const t0 = performance.now();
for (let k = 0; k < 50; k++) { for (const p of players) p.send(); await new Promise(r => setTimeout(r, 20)); }
await new Promise(r => setTimeout(r, 1000));
console.log(times.length, (performance.now() - t0) | 0, [...msgs].slice(0, 5));
await s.child.kill("SIGKILL"); await nats.stop();
