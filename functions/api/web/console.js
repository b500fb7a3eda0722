// The staff console: every view is what the API answers to the token's role and district; a view the API
// refuses (403) is not shown at all. The token's claims are decoded only to say who is signed in.
"use strict";
Object.assign(T.zh, { console: "管理控制台", staff_token: "工作人员令牌", sign_in: "登录",
  token_hint: "本地环境：.local/admin-token 或 python -m tools.mint_token", lots_devices: "停车场与设备",
  tariffs: "收费标准", arrears_queue: "欠费催缴队列", disputes: "待处理争议", signed_in: "已登录：{role} {district}",
  online: "在线", offline_now: "离线", last_seen: "最近上报 {at}", empty: "暂无" });
Object.assign(T.en, { console: "Staff console", staff_token: "Staff token", sign_in: "Sign in",
  token_hint: "Locally: .local/admin-token or python -m tools.mint_token", lots_devices: "Car parks and devices",
  tariffs: "Tariffs", arrears_queue: "Arrears collection queue", disputes: "Disputes to decide",
  signed_in: "Signed in: {role} {district}", online: "online", offline_now: "offline", last_seen: "last seen {at}", empty: "None" });

const staff = () => sessionStorage.getItem("staffToken") || "";
const auth = () => ({ headers: { Authorization: "Bearer " + staff() } });

function claims() {
  try { return JSON.parse(atob(staff().split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch (e) { return {}; }
}

async function section(id, path, render) {
  const box = document.getElementById(id);
  try {
    const body = await api(path, auth());
    box.hidden = false;
    render(body);
  } catch (err) { box.hidden = true; }  // refused or unavailable: the console shows nothing of it
}

function items(listId, rows) {
  const list = document.getElementById(listId);
  list.replaceChildren(...(rows.length ? rows : [el("li", {}, t("empty"))]));
}

async function load() {
  if (!staff()) return;
  const c = claims();
  document.getElementById("who").replaceChildren(el("p", { class: "card", id: "signed-in" },
    t("signed_in", { role: c.role || "?", district: c.district || c.operator || "" })));
  await Promise.all([
    section("lots-section", "/v1/admin/lots", async (body) => {
      items("lots", body.lots.map((lot) => el("li", { class: "card", id: "lot-" + lot.lot_id },
        el("strong", {}, lot.name), " ", el("span", { class: "muted" }, `${lot.lot_id} · ${lot.district_code} · ${lot.capacity}`),
        el("div", { class: "status" }))));
      for (const lot of body.lots.slice(0, 20)) {
        try {
          const s = await api(`/v1/admin/lots/${encodeURIComponent(lot.lot_id)}/status`, auth());
          const seen = Object.values(s.devices_last_seen || {}).sort().pop();
          document.querySelector(`#lot-${CSS.escape(lot.lot_id)} .status`).replaceChildren(
            el("span", { class: s.free > 0 ? "free" : "full" }, t("free_of", { free: s.free, total: s.total })), " · ",
            s.online === false ? t("offline_now") : t("online"), seen ? " · " + t("last_seen", { at: when(seen) }) : "");
        } catch (err) { /* a lot the caller may list but not inspect keeps its row without status */ }
      }
    }),
    section("tariffs-section", "/v1/admin/tariffs", (body) => items("tariffs", (body.tariffs || []).map((tr) =>
      el("li", { class: "card" }, el("strong", {}, (tr.tariff && tr.tariff.name) || tr.tariff_id), " ",
        el("span", { class: "muted" }, `${tr.tariff_id} · ${tr.district_code || "city"}`))))),
    section("arrears-section", "/v1/admin/arrears", (body) => items("arrears-list", (body.cases || []).map((cs) =>
      el("li", { class: "card" }, `${cs.plate} · ${cs.lot_id} · ${yuan(cs.amount_fen)} · ${cs.state}`)))),
    section("disputes-section", "/v1/admin/disputes", (body) => items("disputes", (body.disputes || []).map((d) =>
      el("li", { class: "card" }, `${d.bill_id} · ${d.reason} · ${when(d.opened_at)}`)))),
  ]);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signin").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("staffToken", document.getElementById("token").value.trim());
    load();
  });
  load();
});
document.addEventListener("langchange", load);
