/* global document, window, EventSource, fetch, URL */
// The simulator page: renders the view the server pushes (server-sent events) and posts actions.
// No build step; everything sensitive is masked on the server before it gets here.
"use strict";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
let language = window.localStorage.getItem("xspos-lang") || "zh";
let view = null;
const openMessages = new Set();
/** The last recorded session (a scenario file), for Replay; kept across a reload. */
let recorded = JSON.parse(window.localStorage.getItem("xspos-recorded") || "null");
/** The settings inputs are filled from the view until the user edits one. */
let settingsEdited = false;

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

/** Posts an action; a refusal is shown in the notice line (and under the settings or scenario panel it came from). */
async function act(action, path = "/api/action", where = "notice") {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof action === "string" ? action : JSON.stringify(action),
  });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) {
    $(where).textContent = body.error;
    $(where).dataset.error = "true";
    return null;
  }
  return body;
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
    // A card the terminal behind the page cannot read (the Linux terminal: swipe only) is shown disabled, with why.
    const button = el(
      "button",
      { "data-testid": `card-${card.name}`, title: card.refused, onclick: () => act({ type: "card", name: card.name }) },
      labels[card.entry],
    );
    button.disabled = card.refused !== null;
    acts.append(button);
    box.append(acts);
  }
  const refused = view.cards.find((card) => card.refused !== null);
  $("cards-note").textContent = refused === undefined ? "" : refused.refused;
}

/** Which terminal is behind the page, and what it cannot do that the page offers. */
function renderTerminal() {
  $("panel-terminal").hidden = view.terminalNotes.length === 0;
  $("terminal-kind").textContent = view.terminalKind === "native" ? "Linux 终端 native binary" : "";
  $("terminal-notes").replaceChildren(...view.terminalNotes.map((note) => el("li", {}, note)));
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
  renderFirmware();
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
        // An approval's detail is its auth code, and for a void or refund the sale it names (not a reason).
        `授权 auth ${r.authCode}${r.originalStan ? ` · 原 orig ${r.originalStan}` : ""}`,
      ),
    );
  // Reversed records have left the flash journal: the server kept their details, so a reload shows them too.
  for (const r of view.journal.closed)
    rows.push(el("tr", { "data-testid": `journal-${r.stan}`, "data-state": r.state }, r.stan, r.op, yuan(r.amount), r.pan, r.state, ""));
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
      const title = `${m.mti} ${view.mtiNames[m.mti] || ""}`;
      const fields = m.error
        ? m.error
        : Object.entries(m.fields)
            .map(([k, v]) => `F${k.padStart(2, "0")} ${(view.fieldNames[k] || "").padEnd(40)} ${v}`)
            .join("\n");
      messages.push(
        el(
          "tr",
          { class: "fields" },
          el(
            "td",
            { colspan: "6" },
            el("pre", { "data-testid": "message-fields" }, `${title}\n${fields}`),
            el("pre", { class: "hex", "data-testid": "message-hex" }, hexDump(m.hex)),
          ),
        ),
      );
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

/** 16 bytes a line with the offset; `**` is a byte of a hidden field (PAN middle, track data, PIN block, chip and key data). */
function hexDump(hex) {
  if (!hex) return "(no hex dump: the message did not decode)";
  const lines = [];
  for (let i = 0; i < hex.length; i += 32) {
    const bytes = hex.slice(i, i + 32).match(/../g) || [];
    lines.push(`${(i / 2).toString(16).padStart(4, "0")}  ${bytes.join(" ")}`);
  }
  return lines.join("\n");
}

const fmtT = (t) => `${(t / 1000).toFixed(3)} s`;

function renderTimeline() {
  const lines = view.timeline.slice().reverse();
  $("timeline").replaceChildren(
    ...(lines.length === 0
      ? [el("div", { class: "hint" }, "no reversal yet 暂无冲正")]
      : lines.map((line) =>
          el(
            "details",
            { "data-testid": `timeline-${line.stan}`, "data-resolution": line.resolution, open: "" },
            el(
              "summary",
              {},
              `STAN ${line.stan} · ${line.op}${line.amount !== undefined && line.amount !== null ? ` ${yuan(line.amount)}` : ""} · ${line.resolution}`,
            ),
            el("ol", {}, ...line.entries.map((e) => el("li", { "data-kind": e.kind, class: `tl-${e.kind}` }, `${fmtT(e.t)}  ${e.text}`))),
          ),
        )),
  );
}

function renderDesk() {
  const p = view.parameters;
  const settings = view.settings;
  if (!settingsEdited) {
    $("set-responseTimeoutMs").value = p.responseTimeoutMs;
    $("set-connectTimeoutMs").value = p.connectTimeoutMs;
    $("set-reversalAttempts").value = p.reversalAttempts;
    $("set-backoffMs").value = settings.backoffMs.join(",");
  }
  const scale = view.desk.timeScale;
  if ($("time-scale").value !== String(scale)) {
    if (![...$("time-scale").options].some((o) => o.value === String(scale)))
      $("time-scale").append(el("option", { value: scale }, `×${scale}`));
    $("time-scale").value = String(scale);
  }
  const state = $("settings-state");
  if (state.dataset.error !== "true")
    state.textContent =
      `response timeout ${p.responseTimeoutMs} ms · connect timeout ${p.connectTimeoutMs} ms · ${p.reversalAttempts} attempts · ` +
      `backoff ${settings.backoffMs.join("/") || "none"} ms · time ×${scale} (a ${p.responseTimeoutMs / 1000} s timeout takes ${(p.responseTimeoutMs / 1000 / scale).toFixed(2)} s)`;
  const run = view.desk.run;
  const recording = view.desk.recording;
  const scenario = $("scenario-state");
  scenario.dataset.state = recording !== null ? "recording" : run === null ? "idle" : run.state;
  if (scenario.dataset.error !== "true")
    scenario.textContent =
      recording !== null
        ? `● 录制中 recording: ${recording.steps} step(s)`
        : run === null
          ? recorded === null
            ? "nothing recorded or run yet"
            : `recorded: ${recorded.steps.length} step(s), ${recorded.expect.length} expectation(s)`
          : run.state === "running"
            ? `▶ ${run.name}: step ${run.step + 1} of ${run.steps}`
            : `${run.name}: ${{ passed: "✔ PASS 通过", failed: "✘ FAIL 失败", aborted: "aborted by a reset", error: "✘ ERROR" }[run.state]}`;
  $("scenario-failures").replaceChildren(...(run === null ? [] : run.failures.map((f) => el("li", {}, f))));
}

/** What runs (the last boot's version), where the last update stands, and what the TMS publishes. */
function renderFirmware() {
  const { version, update } = view.firmware;
  $("firmware-version").textContent = version ?? "—";
  const line = $("firmware-update");
  line.dataset.state = update === null ? "none" : update.state;
  line.textContent =
    update === null ? "" : ` · 更新 update ${update.version}: ${update.state}${update.reason === null ? "" : ` (${update.reason})`}`;
  const image = view.host.published.image;
  if ($("tms-state").dataset.error === "true") return; // a refused publication stays shown until the next one
  $("tms-state").textContent =
    image === null
      ? "TMS 未发布 nothing published · 签到或参数下载时检查 the terminal checks at sign-on or TMS"
      : `TMS 已发布 published ${image.version} (${image.kind}, ${image.sizeBytes} bytes) · 签到或参数下载时下载 fetched at sign-on or TMS`;
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
  renderTerminal();
  renderCountdown();
  renderPanels();
  renderTimeline();
  renderDesk();
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
$("tms-publish").addEventListener("click", () => {
  clearError("tms-state");
  act({ type: "tmsPublish", image: { version: $("tms-version").value.trim(), kind: $("tms-kind").value } }, "/api/action", "tms-state");
});
$("fault-add").addEventListener("click", () => {
  const kind = $("fault-kind").value;
  const fault = { kind, count: Number($("fault-count").value) || 1 };
  if (kind === "delay") fault.ms = Number($("fault-ms").value);
  if (kind === "decline") fault.code = $("fault-code").value;
  if ($("fault-mti").value.trim() !== "") fault.mti = $("fault-mti").value.trim();
  act({ type: "fault", fault });
});
for (const id of ["set-responseTimeoutMs", "set-connectTimeoutMs", "set-reversalAttempts", "set-backoffMs"])
  $(id).addEventListener("input", () => (settingsEdited = true));
const clearError = (id) => {
  $(id).dataset.error = "false";
  $(id).textContent = "";
};
$("settings-apply").addEventListener("click", async () => {
  clearError("settings-state");
  const backoff = $("set-backoffMs").value.trim();
  const settings = {
    responseTimeoutMs: Number($("set-responseTimeoutMs").value),
    connectTimeoutMs: Number($("set-connectTimeoutMs").value),
    reversalAttempts: Number($("set-reversalAttempts").value),
    backoffMs: backoff === "" ? [] : backoff.split(/[ ,/]+/).map(Number),
  };
  if ((await act({ type: "settings", settings }, "/api/action", "settings-state")) !== null) settingsEdited = false;
  render();
});
$("time-scale").addEventListener("change", () => {
  clearError("settings-state");
  act({ type: "timeScale", scale: Number($("time-scale").value) }, "/api/action", "settings-state");
});
$("reset").addEventListener("click", () => {
  clearError("settings-state");
  act({ type: "reset" }, "/api/action", "settings-state");
});
$("record-start").addEventListener("click", () => {
  clearError("scenario-state");
  act({ type: "record", on: true }, "/api/action", "scenario-state");
});
$("record-stop").addEventListener("click", async () => {
  clearError("scenario-state");
  const body = await act({ type: "record", on: false }, "/api/action", "scenario-state");
  if (body === null) return;
  recorded = body.scenario;
  window.localStorage.setItem("xspos-recorded", JSON.stringify(recorded));
  // Saved as a file the CLI runs too: tools/xspos scenario FILE.json, tools/xspos sim --headless --script FILE.json.
  const link = el("a", {
    href: URL.createObjectURL(new window.Blob([JSON.stringify(recorded, null, 2)], { type: "application/json" })),
    download: "recorded-scenario.json",
  });
  link.click();
  render();
});
$("record-replay").addEventListener("click", () => {
  clearError("scenario-state");
  if (recorded === null) {
    $("scenario-state").textContent = "nothing recorded yet: Record, use the terminal, then Stop";
    $("scenario-state").dataset.error = "true";
    return;
  }
  act(JSON.stringify(recorded), "/api/scenario", "scenario-state");
});
$("scenario-file").addEventListener("change", async () => {
  clearError("scenario-state");
  const file = $("scenario-file").files[0];
  if (file === undefined) return;
  const text = await file.text();
  $("scenario-file").value = "";
  act(text, "/api/scenario", "scenario-state");
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
