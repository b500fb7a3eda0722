// The staff console: every view is what the API answers to the token's role and district; a view the API
// refuses (403) is not shown at all. The token's claims are decoded only to say who is signed in.
"use strict";
Object.assign(T.zh, { console: "管理控制台", staff_token: "工作人员令牌", sign_in: "登录",
  token_hint: "本地环境：.local/admin-token 或 python -m tools.mint_token", lots_devices: "停车场与设备",
  tariffs: "收费标准", arrears_queue: "欠费催缴队列", disputes: "待处理争议", signed_in: "已登录：{role} {district}",
  online: "在线", offline_now: "离线", last_seen: "最近上报 {at}", empty: "暂无",
  register_device: "登记设备", lot: "停车场", device_id: "设备编号", device_kind: "设备类型", lane: "车道（道闸相机）", register: "登记",
  secret_once: "设备 {id} 已登记。签名密钥只显示这一次，请立即配置到设备：", devices: "设备", decide: "处理争议",
  upheld: "支持（调整金额）", rejected: "驳回", fair_amount: "合理金额（分）", note: "说明", decided: "已处理：{decision}",
  contact: "记录催缴联系", channel: "方式", outcome: "结果", tickets: "12345 工单", compliance: "智慧化达标率", hotspots: "停车热点（昨日）", signals: "疑似瞒报与违规信号（30 天）", reviewed: "已复核：{decision}", hot: "{lot} {hour}:00 占用 {pct}%", not_scanned: "昨日报告尚未生成",
  rate: "{name}：{ok}/{lots} 达标", failing: "未达标：{lot}（{reasons}）", never_seen: "尚未上报", findings: "对账差异",
  settlements: "日结算单（近 31 天）", settled_day: "{day} · 实收 {total}", anomalies: "近 30 天断网 {n} 次{open}", open_now: "（当前断网）" });
Object.assign(T.en, { console: "Staff console", staff_token: "Staff token", sign_in: "Sign in",
  token_hint: "Locally: .local/admin-token or python -m tools.mint_token", lots_devices: "Car parks and devices",
  tariffs: "Tariffs", arrears_queue: "Arrears collection queue", disputes: "Disputes to decide",
  signed_in: "Signed in: {role} {district}", online: "online", offline_now: "offline", last_seen: "last seen {at}", empty: "None",
  register_device: "Register a device", lot: "Car park", device_id: "Device id", device_kind: "Kind", lane: "Lane (gate cameras)", register: "Register",
  secret_once: "Device {id} registered. Its signing secret is shown this once; configure the device now:", devices: "Devices", decide: "Decide",
  upheld: "Uphold (adjust the amount)", rejected: "Reject", fair_amount: "Fair amount (fen)", note: "Note", decided: "Decided: {decision}",
  contact: "Record a collection contact", channel: "Channel", outcome: "Outcome", tickets: "Hotline tickets", compliance: "Smart-compliance rate", hotspots: "Parking hotspots (yesterday)", signals: "Fraud and data-hiding signals (30 days)", reviewed: "Reviewed: {decision}", hot: "{lot} at {hour}:00: {pct}% occupied", not_scanned: "Yesterday's report is not ready yet",
  rate: "{name}: {ok}/{lots} compliant", failing: "Failing: {lot} ({reasons})", never_seen: "never seen", findings: "Reconciliation findings",
  settlements: "Daily settlement statements (last 31 days)", settled_day: "{day} · collected {total}",
  anomalies: "{n} comms losses in 30 days{open}", open_now: " (offline now)" });

// Who may act, as the API decides it (shared/access.py and the services; tests/authz/matrix.py pins it,
// tests/web/test_console_rules.py checks these lists against the matrix): a form the API would refuse is not shown.
const MAY = {
  register_device: ["city_admin", "district_admin", "district_platform"],
  decide_dispute: ["city_admin", "district_admin"],
  record_contact: ["city_admin", "district_admin", "operator"],  // an operator sees only cases handed to it
};
const may = (action) => MAY[action].includes(claims().role);
const DEVICE_KINDS = ["gate_camera", "berth_robot", "video_pole_high", "video_pole_low", "geomagnetic", "lot_system"];
const post = (path, data) => api(path, { method: "POST", body: JSON.stringify(data), headers: auth().headers });

const staff = () => sessionStorage.getItem("staffToken") || "";
const auth = () => ({ headers: { Authorization: "Bearer " + staff() } });

function claims() {
  try { return JSON.parse(atob(staff().split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch (e) { return {}; }
}

// Each load() is a generation: an answer that arrives after a later load() began (another token signed in,
// or a newer view after a decision) is dropped, so a slow answer to the previous token never shows.
let generation = 0;
const current = (mine) => mine === generation;

async function section(id, path, render, mine) {
  const box = document.getElementById(id);
  try {
    const body = await api(path, auth());
    if (!current(mine)) return;
    box.hidden = false;
    render(body, mine);
  } catch (err) { if (current(mine)) box.hidden = true; }  // refused or unavailable: the console shows nothing of it
}

function items(listId, rows) {
  const list = document.getElementById(listId);
  list.replaceChildren(...(rows.length ? rows : [el("li", {}, t("empty"))]));
}

async function load() {
  const mine = ++generation;
  if (!staff()) return;
  const show = (id, path, render) => section(id, path, render, mine);
  const c = claims();
  document.getElementById("who").replaceChildren(el("p", { class: "card", id: "signed-in" },
    t("signed_in", { role: c.role || "?", district: c.district || c.operator || "" })));
  await Promise.all([
    show("lots-section", "/v1/admin/lots", async (body) => {
      items("lots", body.lots.map((lot) => el("li", { class: "card", id: "lot-" + lot.lot_id },
        el("strong", {}, lot.name), " ", el("span", { class: "muted" }, `${lot.lot_id} · ${lot.district_code} · ${lot.capacity}`),
        el("div", { class: "status" }))));
      for (const lot of body.lots.slice(0, 20)) {
        try {
          const s = await api(`/v1/admin/lots/${encodeURIComponent(lot.lot_id)}/status`, auth());
          if (!current(mine)) return;
          const seen = Object.values(s.devices_last_seen || {}).sort().pop();
          document.querySelector(`#lot-${CSS.escape(lot.lot_id)} .status`).replaceChildren(
            el("span", { class: s.free > 0 ? "free" : "full" }, t("free_of", { free: s.free, total: s.total })), " · ",
            s.online === false ? t("offline_now") : t("online"), seen ? " · " + t("last_seen", { at: when(seen) }) : "");
          const anomalies = (await api(`/v1/admin/lots/${encodeURIComponent(lot.lot_id)}/anomalies?days=30`, auth())).anomalies || [];
          if (!current(mine)) return;
          if (anomalies.length) document.querySelector(`#lot-${CSS.escape(lot.lot_id)} .status`).append(el("p", { class: "anomalies" },
            t("anomalies", { n: anomalies.length, open: anomalies.some((a) => !a.restored_at) ? t("open_now") : "" })));
          const devices = (await api(`/v1/admin/lots/${encodeURIComponent(lot.lot_id)}/devices`, auth())).devices || [];
          if (!current(mine)) return;
          const lastSeen = s.devices_last_seen || {};
          document.querySelector(`#lot-${CSS.escape(lot.lot_id)} .status`).append(el("ul", { class: "devices muted" },
            ...devices.map((d) => el("li", { id: "device-" + d.device_id }, `${d.device_id} · ${d.kind}${d.lane ? " · " + d.lane : ""} · `
              + (lastSeen[d.device_id] ? t("last_seen", { at: when(lastSeen[d.device_id]) }) : t("never_seen"))))));
        } catch (err) { /* a lot the caller may list but not inspect keeps its row without status */ }
      }
    }),
    show("tariffs-section", "/v1/admin/tariffs", (body) => items("tariffs", (body.tariffs || []).map((tr) =>
      el("li", { class: "card" }, el("strong", {}, (tr.tariff && tr.tariff.name) || tr.tariff_id), " ",
        el("span", { class: "muted" }, `${tr.tariff_id} · ${tr.district_code || "city"}`))))),
    show("arrears-section", "/v1/admin/arrears", (body) => items("arrears-list", (body.cases || []).map((cs) =>
      el("li", { class: "card", id: "case-" + cs.case_id }, `${cs.plate} · ${cs.lot_id} · ${yuan(cs.amount_fen)} · ${cs.state}`,
        ...(may("record_contact") && cs.state === "open" ? [contactForm(cs)] : []))))),
    show("disputes-section", "/v1/admin/disputes", (body) => items("disputes", (body.disputes || []).map((d) =>
      el("li", { class: "card", id: "dispute-" + d.bill_id }, `${d.bill_id} · ${d.reason} · ${when(d.opened_at)}`,
        d.detail ? el("p", { class: "muted" }, d.detail) : "",
        d.decision ? el("p", { class: "decided" }, t("decided", { decision: d.decision }))
          : (may("decide_dispute") ? decisionForm(d) : ""))))),
    // An operator's own statements (others name an operator: GET /v1/admin/settlements?operator=, not offered here).
    claims().role === "operator" ? show("settlements-section", `/v1/admin/settlements?from=${daysAgo(31)}&to=${daysAgo(0)}`,
      (body) => items("settlements", (body.statements || []).map((st) => el("li", { class: "card" },
        t("settled_day", { day: st.day, total: yuan(st.collected_total_fen) }))))) : hide("settlements-section"),
    show("findings-section", "/v1/admin/reconciliation/findings", (body) => items("findings", (body.findings || []).slice(0, 50).map((f) =>
      el("li", { class: "card" }, `${f.day} · ${f.provider} · ${f.kind}`, el("br"),
        el("span", { class: "muted" }, `${f.payment_id || f.provider_ref || ""} · ${f.platform_amount_fen != null ? yuan(f.platform_amount_fen) : "—"} / ${f.provider_amount_fen != null ? yuan(f.provider_amount_fen) : "—"}`))))),
    show("tickets-section", "/v1/admin/hotline/tickets", (body) => items("tickets", (body.tickets || []).map((k) =>
      el("li", { class: "card" }, `${k.ticket_id} · ${k.category} · ${k.status}`, el("br"), k.description || "")))),
    show("compliance-section", "/v1/admin/compliance", (body) => items("compliance", [
      ...Object.entries(body.by_district || {}).map(([d, r]) => el("li", { class: "card" }, t("rate", { name: d, ok: r.compliant, lots: r.lots }))),
      ...(body.failing || []).slice(0, 20).map((f) => el("li", { class: "card muted" }, t("failing", { lot: f.lot_id, reasons: f.reasons.join(", ") })))])),
    show("hotspots-section", `/v1/admin/hotspots?day=${daysAgo(1)}`, hotspots),
    show("signals-section", `/v1/admin/signals?from=${daysAgo(30)}&to=${daysAgo(0)}`, (body) => items("signals",
      (body.signals || []).slice(0, 50).map((sg) => el("li", { class: "card", id: "signal-" + sg.signal_id },
        el("strong", {}, `${sg.day} · ${sg.lot_id} · ${sg.kind}`), el("br"), sg.explanation,
        sg.review ? el("p", { class: "decided" }, t("reviewed", { decision: sg.review.decision })) : "")))),
    may("register_device") ? show("register-section", "/v1/admin/lots", registerForm) : hide("register-section"),
  ]);
}

const daysAgo = (n) => new Date(Date.now() + 8 * 3600e3 - n * 86400e3).toISOString().slice(0, 10);  // Shanghai day
function hide(id) { document.getElementById(id).hidden = true; }
const fail = (where) => (err) => showError(where, err);

// Yesterday's report of the daily scan: the hottest lot-hours, and the heat map (SVG from the same route).
async function hotspots(body, mine) {
  items("hotspots", !body.stored ? [el("li", { class: "muted" }, t("not_scanned"))]
    : body.hotspots.slice(0, 10).map((h) => el("li", { class: "card" },
      t("hot", { lot: h.lot_id, hour: h.hour, pct: Math.round(h.utilisation * 100) }))));
  const map = document.getElementById("hotspot-map");
  map.replaceChildren();
  if (!body.stored) return;
  const resp = await fetch(`/v1/admin/hotspots?day=${body.day}&format=svg`, auth());
  if (!resp.ok) return;
  const text = await resp.text();
  if (!current(mine)) return;
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  if (svg.nodeName === "svg") map.append(document.importNode(svg, true));
}

function registerForm(body) {
  document.getElementById("device-lot").replaceChildren(...body.lots.map((lot) => el("option", { value: lot.lot_id }, `${lot.name} (${lot.lot_id})`)));
  document.getElementById("device-kind").replaceChildren(...DEVICE_KINDS.map((k) => el("option", { value: k }, k)));
}

async function registerDevice(e) {
  e.preventDefault();
  const out = document.getElementById("register-result");
  const lane = document.getElementById("device-lane").value.trim();
  try {
    const device = await post("/v1/admin/devices", { device_id: document.getElementById("device-id").value.trim(),
      kind: document.getElementById("device-kind").value, lot_id: document.getElementById("device-lot").value, ...(lane ? { lane } : {}) });
    out.replaceChildren(el("div", { class: "card", id: "registered" }, t("secret_once", { id: device.device.device_id }),
      el("pre", { id: "device-secret" }, device.secret)));
    load();
  } catch (err) { showError(out, err); }
}

function decisionForm(d) {
  const decision = el("select", { id: "decision-" + d.bill_id }, el("option", { value: "upheld" }, t("upheld")), el("option", { value: "rejected" }, t("rejected")));
  const fair = el("input", { id: "fair-" + d.bill_id, type: "number", min: "0", step: "1", inputmode: "numeric" });
  const note = el("input", { id: "note-" + d.bill_id });
  const where = el("div", { "aria-live": "polite" });
  return el("form", { class: "decide", onsubmit: async (e) => {
      e.preventDefault();
      const data = { decision: decision.value, note: note.value, ...(decision.value === "upheld" && fair.value !== "" ? { fair_amount_fen: Number(fair.value) } : {}) };
      try { await post(`/v1/admin/disputes/${encodeURIComponent(d.bill_id)}/resolve`, data); load(); } catch (err) { showError(where, err); } } },
    el("label", { for: decision.id }, t("decide")), decision, el("label", { for: fair.id }, t("fair_amount")), fair,
    el("label", { for: note.id }, t("note")), note, el("button", { type: "submit", id: "decide-" + d.bill_id }, t("decide")), where);
}

function contactForm(cs) {
  const channel = el("select", { id: "channel-" + cs.case_id }, ...["phone", "letter", "visit", "sms_official"].map((c) => el("option", { value: c }, c)));
  const outcome = el("input", { id: "outcome-" + cs.case_id });
  const where = el("div", { "aria-live": "polite" });
  return el("form", { class: "contact", onsubmit: async (e) => {
      e.preventDefault();
      try { await post(`/v1/admin/arrears/${encodeURIComponent(cs.case_id)}/contacts`, { channel: channel.value, outcome: outcome.value }); load(); }
      catch (err) { showError(where, err); } } },
    el("label", { for: channel.id }, t("channel")), channel, el("label", { for: outcome.id }, t("outcome")), outcome,
    el("button", { type: "submit", class: "secondary", id: "contact-" + cs.case_id }, t("contact")), where);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("register-device").addEventListener("submit", registerDevice);
  document.getElementById("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("staffToken", document.getElementById("token").value.trim());
    load();
  });
  load();
});
document.addEventListener("langchange", load);
