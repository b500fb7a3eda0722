// Find parking near a place or near me: live free spaces, a map-like view, a 1-hour price, guidance.
"use strict";
let lots = [];
let centre = null;
const prices = {};

function freeText(lot) {
  if (!lot.open_now) return el("span", { class: "full" }, t("closed"));
  return el("span", { class: lot.free > 0 ? "free" : "full" }, t("free_of", { free: lot.free, total: lot.total }));
}

function renderList() {
  const list = document.getElementById("lots");
  if (!lots.length) { list.replaceChildren(el("li", {}, t("no_lots"))); return; }
  list.replaceChildren(...lots.map((lot) => el("li", {},
    el("button", { type: "button", id: "lot-" + lot.lot_id, onclick: () => guide(lot) },
      el("strong", {}, lot.name), el("br"), freeText(lot), " · ", t("distance", { m: lot.distance_m }),
      el("br"), el("span", { class: "muted" }, prices[lot.lot_id] ? t("hour_price", { p: prices[lot.lot_id] }) : "")))));
}

function renderMap() {
  // Equirectangular around the centre: enough to see which lot lies where, no tiles, no network.
  const map = document.getElementById("map");
  const span = Math.max(0.005, ...lots.map((l) => Math.max(Math.abs(l.location.lat - centre.lat), Math.abs(l.location.lon - centre.lon))));
  const pos = (lat, lon) => ({ x: 50 + 45 * (lon - centre.lon) / span, y: 50 - 45 * (lat - centre.lat) / span });
  const me = pos(centre.lat, centre.lon);
  const pins = lots.map((lot, i) => {
    const p = pos(lot.location.lat, lot.location.lon);
    return el("button", { type: "button", class: "pin", style: `left:${p.x}%;top:${p.y}%`,
      "aria-label": `${lot.name}: ${t("free_of", { free: lot.free, total: lot.total })}`, onclick: () => guide(lot) }, String(lot.free));
  });
  map.replaceChildren(el("span", { class: "me", style: `left:${me.x}%;top:${me.y}%`, title: "centre" }), ...pins);
}

function guide(lot) {
  const box = document.getElementById("guidance");
  const amap = `https://uri.amap.com/marker?position=${lot.location.lon},${lot.location.lat}&name=${encodeURIComponent(lot.name)}&coordinate=wgs84&callnative=1`;
  box.hidden = false;
  box.replaceChildren(
    el("h3", {}, t("guide") + "：" + lot.name),
    el("p", {}, freeText(lot), " · ", t("distance", { m: lot.distance_m })),
    el("p", { class: "muted" }, lot.location.address || ""),
    el("a", { class: "button", id: "open-map", href: amap, target: "_blank", rel: "noopener" }, t("open_map")));
  box.scrollIntoView();
}

async function quoteHour(lot) {
  const now = new Date();
  const entry = new Date(now.getTime() - 3600 * 1000);
  const q = new URLSearchParams({ entry: entry.toISOString(), exit: now.toISOString() });
  try {
    const price = await api(`/v1/lots/${encodeURIComponent(lot.lot_id)}/quote?${q}`);
    prices[lot.lot_id] = yuan(price.amount_fen || 0);
  } catch (err) { /* a lot without a tariff shows no price */ }
}

async function search(lat, lon) {
  centre = { lat, lon };
  try {
    lots = (await api(`/v1/lots?lat=${lat}&lon=${lon}&radius_m=5000&limit=12`)).lots;
    renderList();
    renderMap();
    await Promise.all(lots.map(quoteHour));
    renderList();
  } catch (err) { showError(document.getElementById("lots"), err); }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("where");
  form.addEventListener("submit", (e) => { e.preventDefault(); search(parseFloat(form.lat.value), parseFloat(form.lon.value)); });
  document.getElementById("near-me").addEventListener("click", () => {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition((p) => {
      form.lat.value = p.coords.latitude.toFixed(5); form.lon.value = p.coords.longitude.toFixed(5);
      search(p.coords.latitude, p.coords.longitude);
    }, () => {});
  });
  search(parseFloat(form.lat.value), parseFloat(form.lon.value));
});
document.addEventListener("langchange", () => { if (centre) { renderList(); renderMap(); } });
