// jen-composer studio page: plain JS, no build step, no network beyond this server.
"use strict";
const $ = (sel) => document.querySelector(sel);
let config = null;      // /api/config
let state = null;       // /api/sessions/{id}
let polling = false;

function message(text, ok = false) {
  const el = $("#message");
  el.textContent = text || "";
  el.className = ok ? "ok" : "";
}

async function api(method, path, body, isForm = false) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    if (isForm) { opts.body = body; } else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  }
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("; ");
    throw new Error(detail || `${res.status} ${res.statusText}`);
  }
  return data;
}

function sessionPath(suffix = "") { return `/api/sessions/${state.id}${suffix}`; }

function setBusy(busy, label) {
  document.querySelectorAll("button, input, textarea").forEach((el) => { if (el.id !== "strength") el.disabled = busy; });
  $("#new-session").disabled = busy;
  if (!state) {
    ["#regenerate", "#undo"].forEach((s) => { $(s).disabled = true; });
  }
  if (label) $("#status").textContent = label;
  document.body.dataset.busy = busy ? "1" : "0";
}

function drawWave(canvas, peaks) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  if (!peaks) return;
  ctx.fillStyle = "#6fa8ff";
  const step = w / peaks.length;
  peaks.forEach(([lo, hi], i) => {
    const y0 = h / 2 - Math.min(1, hi) * h / 2, y1 = h / 2 - Math.max(-1, lo) * h / 2;
    ctx.fillRect(i * step, y0, Math.max(1, step), Math.max(1, y1 - y0));
  });
}

function buildRows() {
  const box = $("#tracks");
  box.innerHTML = "";
  for (const track of config.tracks) {
    const row = $("#track-row").content.firstElementChild.cloneNode(true);
    row.dataset.track = track;
    row.dataset.testid = `track-${track}`;
    row.setAttribute("data-testid", `track-${track}`);
    row.querySelector(".name").textContent = track;
    row.querySelector(".keep").addEventListener("change", (e) => edit("/keep", { track, kept: e.target.checked }));
    row.querySelector(".mute").addEventListener("change", (e) => edit("/mix", { track, mute: e.target.checked }));
    row.querySelector(".solo").addEventListener("change", (e) => edit("/mix", { track, solo: e.target.checked }));
    const gain = row.querySelector(".gain");
    gain.addEventListener("input", () => { row.querySelector(".gain-out").textContent = `${gain.value} dB`; });
    gain.addEventListener("change", () => edit("/mix", { track, gain_db: Number(gain.value) }));
    row.querySelector(".import").addEventListener("change", (e) => upload(track, e.target));
    row.querySelector(".reimagine").addEventListener("click", () =>
      startJob("/reimagine", { track, strength: Number($("#strength").value), seed: seedValue() }));
    row.querySelector(".region").addEventListener("click", () =>
      startJob("/region", { track, start: Number(row.querySelector(".start").value),
                            end: Number(row.querySelector(".end").value), seed: seedValue() }));
    box.appendChild(row);
  }
}

function render() {
  if (!state) return;
  $("#status").textContent = `session ${state.id.slice(0, 8)} · round ${state.rounds.length}`;
  if (document.activeElement !== $("#prompt")) $("#prompt").value = state.prompt;
  $("#steps").value = state.settings.steps;
  $("#cfg").value = state.settings.text_guidance;
  $("#stem-cfg").value = state.settings.stem_guidance;
  document.body.dataset.session = state.id;
  for (const row of document.querySelectorAll(".track")) {
    const track = row.dataset.track;
    const take = state.takes[track];
    const kept = state.kept.includes(track);
    row.classList.toggle("kept", kept);
    row.dataset.sha256 = take ? take.sha256 : "";
    row.querySelector(".keep").checked = kept;
    row.querySelector(".mute").checked = state.mix.mute.includes(track);
    row.querySelector(".solo").checked = state.mix.solo.includes(track);
    const g = state.mix.gain_db[track] || 0;
    row.querySelector(".gain").value = g;
    row.querySelector(".gain-out").textContent = `${g} dB`;
    row.querySelector(".end").max = row.querySelector(".start").max = state.seconds;
    const player = row.querySelector(".player");
    const src = take ? sessionPath(`/tracks/${track}.wav?r=${take.round}`) : "";
    if (player.getAttribute("src") !== src) { if (src) player.setAttribute("src", src); else player.removeAttribute("src"); }
    drawWave(row.querySelector(".wave"), take && take.peaks);
  }
  const hasTakes = Object.keys(state.takes).length > 0;
  const mixSrc = hasTakes ? sessionPath(`/mix.wav?n=${state.rounds.length}-${JSON.stringify(state.mix).length}-${Date.now()}`) : "";
  if (hasTakes) $("#mix").setAttribute("src", mixSrc); else $("#mix").removeAttribute("src");
  const exp = $("#export");
  exp.classList.toggle("disabled", !hasTakes);
  exp.href = hasTakes ? sessionPath("/export.zip") : "#";
  const hist = $("#history");
  hist.innerHTML = "";
  for (const r of state.rounds) {
    const li = document.createElement("li");
    li.value = r.index;
    const what = r.op === "undo" ? `undo → round ${r.target}` : `${r.op} ${r.generated.join(", ")}`;
    li.textContent = `${what}${r.seed != null ? ` (seed ${r.seed})` : ""} · kept: ${r.kept.join(", ") || "–"} `;
    const btn = document.createElement("button");
    btn.textContent = "restore";
    btn.dataset.testid = `restore-${r.index}`;
    btn.setAttribute("data-testid", `restore-${r.index}`);
    btn.addEventListener("click", () => edit("/undo", { round: r.index }));
    li.appendChild(btn);
    hist.appendChild(li);
  }
}

function seedValue() { const v = $("#seed").value; return v === "" ? null : Number(v); }

async function edit(suffix, body) {
  if (!state) return;
  try { state = await api("POST", sessionPath(suffix), body); message(""); } catch (e) { message(e.message); }
  render();
}

async function upload(track, input) {
  if (!state || !input.files.length) return;
  const file = input.files[0];
  const form = new FormData();
  form.append("file", file, file.name);
  setBusy(true, `importing ${file.name} …`);
  try {
    state = await api("POST", sessionPath(`/import/${track}`), form, true);
    message(`imported ${file.name} as kept ${track}`, true);
  } catch (e) {
    message(`import failed: ${e.message}`);
  } finally {
    input.value = "";
    setBusy(false);
    render();
  }
}

async function saveSettings() {
  const body = { steps: Number($("#steps").value), text_guidance: Number($("#cfg").value),
                 stem_guidance: Number($("#stem-cfg").value) };
  state = await api("POST", sessionPath("/settings"), body);
  const prompt = $("#prompt").value.trim();
  if (prompt && prompt !== state.prompt) state = await api("POST", sessionPath("/prompt"), { prompt });
}

async function startJob(suffix, body) {
  if (!state) { message("start a session first"); return; }
  try {
    await saveSettings();
    const job = await api("POST", sessionPath(suffix), body);
    message("");
    await poll(job.id, job.kind);
  } catch (e) { message(e.message); setBusy(false); render(); }
}

async function poll(jobId, kind) {
  polling = true;
  setBusy(true, `${kind}: queued`);
  const bar = $("#progress");
  for (;;) {
    const job = await api("GET", `/api/jobs/${jobId}`);
    bar.max = job.total || 1;
    bar.value = job.step;
    $("#status").textContent = `${kind}: ${job.status} ${job.total ? `${job.step}/${job.total}` : ""}`;
    if (job.status === "done" || job.status === "error") {
      if (job.status === "error") message(job.error);
      break;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  polling = false;
  state = await api("GET", sessionPath());
  setBusy(false);
  render();
  $("#status").dataset.lastJob = jobId;
  document.body.dataset.jobs = String(Number(document.body.dataset.jobs || 0) + 1);
}

async function newSession() {
  const prompt = $("#prompt").value.trim();
  if (!prompt) { message("write a prompt first"); return; }
  try {
    const seconds = parseFloat($("#seconds").value);
    state = await api("POST", "/api/sessions", Number.isFinite(seconds) ? { prompt, seconds } : { prompt });
    history.replaceState(null, "", `#${state.id}`);
    message("");
    setBusy(false);
    render();
  } catch (e) { message(e.message); }
}

async function init() {
  config = await api("GET", "/api/config");
  $("#engine").textContent = `engine: ${config.checkpoint} · ${config.tracks.length} tracks · ${config.sample_rate} Hz · upload limit ${config.max_upload_mb} MB`;
  $("#steps").value = config.settings.steps;
  $("#cfg").value = config.settings.text_guidance;
  $("#stem-cfg").value = config.settings.stem_guidance;
  $("#seconds").value = config.seconds;
  $("#seconds").max = config.max_seconds;
  buildRows();
  document.querySelectorAll(".import").forEach((el) => { el.accept = config.accept.join(","); });
  $("#strength").addEventListener("input", () => { $("#strength-out").textContent = $("#strength").value; });
  $("#new-session").addEventListener("click", newSession);
  $("#generate-all").addEventListener("click", async () => {
    if (!state) await newSession();
    if (state) await startJob("/generate", { mode: "all", seed: seedValue() });
  });
  $("#regenerate").addEventListener("click", () => startJob("/generate", { mode: "unkept", seed: seedValue() }));
  $("#undo").addEventListener("click", () => edit("/undo", {}));
  const sid = location.hash.slice(1);
  if (sid) {
    try { state = await api("GET", `/api/sessions/${sid}`); } catch (e) { message(e.message); }
  }
  setBusy(false);
  if (state && state.busy) await poll(state.busy, "generation");
  render();
  document.body.dataset.ready = "1";
}

init().catch((e) => message(`could not start: ${e.message}`));
