/* global document, window, EventSource, fetch */
// The simulator page: renders the view the server pushes (server-sent events) and posts actions.
// No build step; everything sensitive is masked on the server before it gets here.
"use strict";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
let language = window.localStorage.getItem("xspos-lang") || "zh";
let view = null;
const openMessages = new Set();
/** What each journal record looked like while live: a closed record keeps its op, amount and masked PAN on the page. */
const knownRecords = new Map();

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof window.Node ? child : String(child));
  return node;
}

async function act(action) {
  const response = await fetch("/api/action", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(action),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({ error: response.statusText }));
    $("notice").textContent = body.error;
  }
}

const yuan = (minor) => `¥${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
const time = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false }) + `.${String(ms % 1000).padStart(3, "0")}`;

// The screen is modules/ui's state machine rendered on the server in both languages: nothing is drawn here.
function renderScreen() {
  const screen = $("screen");
  const title = $("screen-title");
  const lines = $("screen-lines");
  lines.replaceChildren();
  $("power-state").textContent = view.powered ? "● ON" : "OFF";
  // Notices are modules/ui texts too: the page shows the one of its language.
  $("notice").textContent = view.notice === null ? "" : view.notice[language];
  if (!view.powered || view.screen === null) {
    screen.dataset.kind = "off";
    title.textContent = "";
    return;
  }
  screen.dataset.kind = view.screen.kind;
  const rendered = view.screen[language];
  title.textContent = rendered.title;
  for (const line of rendered.lines) lines.append(el("div", {}, line));
}

function renderCards() {
  const box = $("cards");
  if (box.childElementCount > 0) return;
  const labels = { swipe: "刷卡 swipe", chip: "插卡 insert", contactless: "挥卡 tap" };
  for (const card of view.cards) {
    box.append(el("span", {}, card.name));
    const acts = el("span", { class: "acts" });
    acts.append(
      el("button", { "data-testid": `card-${card.name}`, onclick: () => act({ type: "card", name: card.name }) }, labels[card.entry]),
    );
    box.append(acts);
  }
}

function renderCountdown() {
  const box = $("countdown");
  const countdown = view.countdown;
  box.dataset.active = String(countdown !== null);
  const fill = box.querySelector(".bar-fill");
  const text = box.querySelector(".count-text");
  if (countdown === null) {
    fill.style.width = "0";
    text.textContent = `— (${view.parameters.responseTimeoutMs} ms)`;
    return;
  }
  fill.style.width = `${(100 * countdown.remainingMs) / countdown.totalMs}%`;
  text.textContent = `${(countdown.remainingMs / 1000).toFixed(1)} s / ${(countdown.totalMs / 1000).toFixed(1)} s`;
}

function renderPanels() {
  $("flash-state").textContent =
    `${view.powered ? "通电 powered" : "断电 off"} · flash ops ${view.flash.operations}` +
    (view.flash.cutArmed ? " · 断电已设定 cut armed at the next flash op" : "");
  $("net-state").textContent =
    `${view.network.down ? "断网 DOWN" : "正常 up"} · latency ${view.network.latencyMs} ms · host ${view.host.address}`;
  const kinds = $("fault-kind");
  if (kinds.childElementCount === 0) for (const kind of view.faultKinds) kinds.append(el("option", { value: kind }, kind));
  $("faults-list").replaceChildren(
    ...view.host.faults.map((f) =>
      el(
        "li",
        {},
        `${f.kind}${f.ms !== undefined ? ` ${f.ms} ms` : ""}${f.code ? ` F39=${f.code}` : ""}${f.mti ? ` MTI ${f.mti}` : ""} × ${f.count}`,
      ),
    ),
  );
  const state = view.terminalState;
  $("terminal-state").textContent =
    state === null
      ? ""
      : `batch ${state.batch} · next STAN ${String(state.stanNext).padStart(6, "0")} · ${state.signedOn ? "signed on 已签到" : "not signed on 未签到"}`;

  const rows = [];
  for (const r of view.journal.reversals)
    rows.push(
      el(
        "tr",
        { "data-testid": `journal-${r.stan}`, "data-state": r.state },
        r.stan,
        r.op,
        yuan(r.amount),
        r.pan || "",
        r.state,
        `${r.reason || ""}${r.attempts > 0 ? ` ×${r.attempts}` : ""}`,
      ),
    );
  for (const r of view.journal.approved)
    rows.push(
      el(
        "tr",
        { "data-testid": `journal-${r.stan}`, "data-state": "approved" },
        r.stan,
        r.op,
        yuan(r.amount),
        r.pan,
        "approved",
        r.authCode,
      ),
    );
  for (const r of [...view.journal.reversals, ...view.journal.approved]) knownRecords.set(r.stan, r);
  const live = new Set([...view.journal.reversals, ...view.journal.approved].map((r) => r.stan));
  const closed = new Map();
  for (const e of view.journal.history) if (!live.has(e.stan)) closed.set(e.stan, e.state);
  for (const [stan, closedState] of closed) {
    if (closedState === "reversed" || closedState === "completed") {
      const known = knownRecords.get(stan);
      rows.push(
        el(
          "tr",
          { "data-testid": `journal-${stan}`, "data-state": closedState },
          stan,
          known?.op ?? "",
          known ? yuan(known.amount) : "",
          known?.pan ?? "",
          closedState,
          "",
        ),
      );
    }
  }
  for (const row of rows) for (const cell of [...row.childNodes]) row.replaceChild(el("td", {}, cell.textContent), cell);
  $("journal").replaceChildren(...rows);
  $("journal-history").textContent = view.journal.history
    .slice(-8)
    .map((e) => `${e.stan}:${e.state}${e.reason ? `(${e.reason})` : ""}`)
    .join(" → ");

  const messages = [];
  for (const m of [...view.messages].reverse()) {
    const row = el(
      "tr",
      { class: "msg", "data-testid": "message", "data-mti": m.mti, "data-direction": m.direction, onclick: () => toggle(m.id) },
      m.direction === "out" ? "→" : "←",
      m.mti,
      m.stan,
      m.f39 || "",
      time(m.atMs),
      m.elapsedMs === undefined ? "" : m.discarded ? `${m.elapsedMs} ms · ${m.discarded} — discarded` : `${m.elapsedMs} ms`,
    );
    if (m.discarded) row.classList.add("discarded");
    for (const cell of [...row.childNodes]) row.replaceChild(el("td", {}, cell.textContent), cell);
    messages.push(row);
    if (openMessages.has(m.id)) {
      const text = m.error
        ? m.error
        : Object.entries(m.fields)
            .map(([k, v]) => `F${k.padStart(2, "0")} ${v}`)
            .join("\n");
      messages.push(el("tr", { class: "fields", "data-testid": "message-fields" }, el("td", { colspan: "6" }, text)));
    }
  }
  $("messages").replaceChildren(...messages);

  const ledger = view.host.ledger;
  $("ledger").replaceChildren(
    el(
      "div",
      {},
      `TID ${ledger.tid} · 净额 net ${yuan(ledger.net)} · 批准 approved ${ledger.approved.count} (${yuan(ledger.approved.amount)}) · 冲正 reversed ${ledger.reversed.count} (${yuan(ledger.reversed.amount)})`,
    ),
    el(
      "table",
      {},
      el(
        "tbody",
        {},
        ...[...ledger.approved.transactions.map((l) => [l, "approved"]), ...ledger.reversed.transactions.map((l) => [l, "reversed"])].map(
          ([l, s]) =>
            el(
              "tr",
              { "data-testid": `ledger-${l.stan}`, "data-state": s },
              el("td", {}, l.batch),
              el("td", {}, l.stan),
              el("td", {}, l.kind),
              el("td", {}, yuan(l.amount)),
              el("td", {}, s),
            ),
        ),
      ),
    ),
  );

  const receipts = [...view.receipts]
    .reverse()
    .map((r) => el("pre", { class: "receipt", "data-testid": `receipt-${r.kind}`, "data-kind": r.kind }, r.text));
  $("receipts").replaceChildren(...receipts);
  $("last-receipt").textContent = view.receipts.length > 0 ? view.receipts[view.receipts.length - 1].text : "";
}

function toggle(id) {
  if (openMessages.has(id)) openMessages.delete(id);
  else openMessages.add(id);
  render();
}

function render() {
  if (view === null) return;
  renderScreen();
  renderCards();
  renderCountdown();
  renderPanels();
}

function setLanguage(next) {
  language = next;
  window.localStorage.setItem("xspos-lang", next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  for (const button of document.querySelectorAll("[data-lang]")) button.classList.toggle("on", button.dataset.lang === next);
  render();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (button === null) return;
  if (button.dataset.key) act({ type: "key", key: button.dataset.key });
  else if (button.dataset.menu) act({ type: "menu", fn: button.dataset.menu });
  else if (button.dataset.power) act({ type: "power", action: button.dataset.power });
  else if (button.dataset.net) act({ type: "network", down: button.dataset.net === "down" });
  else if (button.dataset.lang) setLanguage(button.dataset.lang);
});
$("net-latency-set").addEventListener("click", () => act({ type: "network", latencyMs: Number($("net-latency").value) }));
$("fault-clear").addEventListener("click", () => act({ type: "clearFaults" }));
$("fault-add").addEventListener("click", () => {
  const kind = $("fault-kind").value;
  const fault = { kind, count: Number($("fault-count").value) || 1 };
  if (kind === "delay") fault.ms = Number($("fault-ms").value);
  if (kind === "decline") fault.code = $("fault-code").value;
  if ($("fault-mti").value.trim() !== "") fault.mti = $("fault-mti").value.trim();
  act({ type: "fault", fault });
});
// The physical keypad works too: digits, Enter, Escape (cancel), Backspace (clear).
document.addEventListener("keydown", (event) => {
  if (event.target instanceof window.HTMLInputElement || event.target instanceof window.HTMLSelectElement) return;
  const key = /^[0-9]$/.test(event.key) ? event.key : { Enter: "enter", Escape: "cancel", Backspace: "clear" }[event.key];
  if (key === undefined) return;
  // Enter (or Space) on a focused button would also click it: the key is the keypad's, not the button's.
  event.preventDefault();
  act({ type: "key", key });
});

setLanguage(language);
const source = new EventSource("/events");
source.onopen = () => ($("connection").textContent = "已连接 connected");
source.onerror = () => ($("connection").textContent = "连接断开 disconnected — is `make sim` still running?");
source.onmessage = (event) => {
  view = JSON.parse(event.data);
  document.body.dataset.ready = "true";
  render();
};
