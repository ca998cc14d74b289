/**
 * The page's network switch in front of the host for the Linux terminal (tools/sim/link-proxy.ts):
 * bytes pass both ways untouched, down resets open connections and refuses new ones, up lets them
 * through again, the latency holds bytes back and is bounded.
 */
import net from "node:net";
import { LinkProxy } from "../../../tools/sim/link-proxy";

let echo: net.Server;
let echoPort: number;
const proxies: LinkProxy[] = [];

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function start(): Promise<{ proxy: LinkProxy; port: number }> {
  const proxy = new LinkProxy({ target: { host: "127.0.0.1", port: echoPort }, timeScale: () => 1 });
  proxies.push(proxy);
  const { port } = await proxy.listen();
  return { proxy, port };
}

/** Connects, writes `text`, and tells what came back or how the connection ended. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
    socket.setEncoding("utf8");
    socket.once("data", (data: string) => {
      socket.destroy();
      resolve(`data:${data}`);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(`error:${error.code}`));
    socket.once("close", () => resolve("closed"));
  });
}

test("bytes pass both ways untouched", async () => {
  const { port } = await start();
  await expect(exchange(port, "0800 hello")).resolves.toBe("data:0800 hello");
});

test("down resets the open connections and refuses new ones; up lets them through again", async () => {
  const { proxy, port } = await start();
  const open = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => open.once("connect", () => resolve()));
  const ended = new Promise<string>((resolve) => {
    open.once("error", (error: NodeJS.ErrnoException) => resolve(String(error.code)));
    open.once("close", () => resolve("closed"));
  });
  // Let the relay's side of the connection exist before the switch is pulled.
  await new Promise((resolve) => setTimeout(resolve, 50));
  proxy.setDown(true);
  await expect(ended).resolves.toBe("ECONNRESET");
  await expect(exchange(port, "x")).resolves.toMatch(/^(error:ECONNRESET|closed)$/);
  expect(proxy.down).toBe(true);
  proxy.setDown(false);
  await expect(exchange(port, "again")).resolves.toBe("data:again");
});

test("the latency holds the bytes back; a latency out of range is refused", async () => {
  const { proxy, port } = await start();
  proxy.setLatency(200);
  expect(proxy.latencyMs).toBe(200);
  const startedMs = performance.now();
  await expect(exchange(port, "slow")).resolves.toBe("data:slow");
  // One way out and one way back.
  expect(performance.now() - startedMs).toBeGreaterThanOrEqual(390);
  expect(() => proxy.setLatency(-1)).toThrow(RangeError);
  expect(() => proxy.setLatency(1.5)).toThrow(RangeError);
  expect(() => proxy.setLatency(600_001)).toThrow(RangeError);
});
