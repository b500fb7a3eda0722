// The scenarios of the service window (S8, S12): hospital appointment parking, off-peak shared parking,
// and hotline tickets a citizen opens, follows and confirms. Every call goes through the scenario APIs
// with the citizen's own token; the page shows nothing the API did not give to this citizen.
"use strict";
Object.assign(T.zh, { services: "便民服务", sign_in_first: "请先在“我的”中登录并验证车牌", hospital: "医院预约停车",
  hospital_lot: "医院停车场编号", date: "就诊日期", show_slots: "查看可预约时段", slot: "时段", book: "预约车位",
  slot_free: "{time} · 余 {free}/{quota}", booked: "已预约：{plate} {time}（{status}）", cancel: "取消预约",
  sharing: "错时共享停车", offer: "共享车位编号", show_offer: "查看共享车位", months: "月数", apply: "用已验证车牌申请",
  offer_text: "{name}：{spaces} 个车位，每月 {fee}", application: "申请 {id}：{plates}（{status}）",
  tickets: "12345 停车投诉与咨询", category: "类别", ticket_lot: "停车场编号", describe: "情况说明", raise: "提交工单",
  ticket_line: "工单 {id} · {status}", resolution: "处理结果：{text}", satisfied: "满意，确认办结", unsatisfied: "不满意，重新处理",
  gate_fault: "道闸/设备故障", wrong_charge: "收费有误", service: "服务问题", information: "咨询", suggestion: "建议",
  done: "已提交。", not_signed_in: "请先登录（我的）。", none: "暂无", no_plates: "请先在“我的”中验证车牌" });
Object.assign(T.en, { services: "Services", sign_in_first: "Sign in and verify a plate in “Me” first", hospital: "Hospital appointment parking",
  hospital_lot: "Hospital car park id", date: "Appointment date", show_slots: "Show free slots", slot: "Slot", book: "Book a space",
  slot_free: "{time} · {free}/{quota} free", booked: "Booked: {plate} {time} ({status})", cancel: "Cancel booking",
  sharing: "Off-peak shared parking", offer: "Shared-parking offer id", show_offer: "Show offer", months: "Months", apply: "Apply with my verified plates",
  offer_text: "{name}: {spaces} spaces, {fee} a month", application: "Application {id}: {plates} ({status})",
  tickets: "Parking hotline (12345)", category: "Category", ticket_lot: "Car park id", describe: "What happened", raise: "Open a ticket",
  ticket_line: "Ticket {id} · {status}", resolution: "Resolution: {text}", satisfied: "Satisfied: close it", unsatisfied: "Not satisfied: reopen",
  gate_fault: "Gate or device fault", wrong_charge: "Wrong charge", service: "Service", information: "Question", suggestion: "Suggestion",
  done: "Sent.", not_signed_in: "Sign in first (Me).", none: "None", no_plates: "Verify a plate in “Me” first" });

const token = () => localStorage.getItem("citizenToken") || "";
const me = (path, options) => api(path, { ...(options || {}), headers: { Authorization: "Bearer " + token() } });
const message = () => document.getElementById("message");
const say = (text) => message().replaceChildren(el("p", { class: "card", role: "status" }, text));
const fail = (err) => showError(message(), err);
const params = new URLSearchParams(location.search);
const shanghaiDay = (d) => new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 10);
let plates = [];

async function showSlots() {
  const lot = document.getElementById("hospital-lot").value.trim();
  const day = document.getElementById("book-date").value;
  try {
    const out = await api(`/v1/hospital/lots/${encodeURIComponent(lot)}/slots?date=${encodeURIComponent(day)}`);
    const select = document.getElementById("book-slot");
    select.replaceChildren(...out.slots.filter((s) => s.free > 0 && new Date(s.slot_start) > new Date()).map((s) =>
      el("option", { value: s.slot_start }, t("slot_free", { time: when(s.slot_start), free: s.free, quota: s.quota }))));
  } catch (err) { fail(err); }
}

async function book(e) {
  e.preventDefault();
  try {
    await me("/v1/hospital/bookings", { method: "POST", body: JSON.stringify({ lot_id: document.getElementById("hospital-lot").value.trim(),
      plate: document.getElementById("book-plate").value, appointment_at: document.getElementById("book-slot").value }) });
    say(t("done")); await loadBookings();
  } catch (err) { fail(err); }
}

async function loadBookings() {
  const out = await me("/v1/me/hospital-bookings");
  const rows = out.bookings.map((b) => el("li", { class: "card", id: "booking-" + b.booking_id },
    t("booked", { plate: b.plate, time: when(b.appointment_at), status: b.status }),
    ...(b.status === "booked" ? [el("button", { type: "button", class: "secondary", id: "cancel-" + b.booking_id, onclick: async () => {
      try { await me(`/v1/hospital/bookings/${encodeURIComponent(b.booking_id)}/cancel`, { method: "POST", body: "{}" }); await loadBookings(); }
      catch (err) { fail(err); } } }, t("cancel"))] : [])));
  document.getElementById("bookings").replaceChildren(...(rows.length ? rows : [el("li", {}, t("none"))]));
}

async function showOffer() {
  try {
    const offer = await api(`/v1/sharing/offers/${encodeURIComponent(document.getElementById("offer-id").value.trim())}`);
    document.getElementById("offer").replaceChildren(el("p", { id: "offer-text" },
      t("offer_text", { name: offer.name, spaces: offer.spaces, fee: yuan(offer.monthly_fee_fen) })));
  } catch (err) { fail(err); }
}

async function apply(e) {
  e.preventDefault();
  try {
    await me(`/v1/sharing/offers/${encodeURIComponent(document.getElementById("offer-id").value.trim())}/applications`, { method: "POST",
      body: JSON.stringify({ plates, months: Number(document.getElementById("apply-months").value) }) });
    say(t("done")); await loadApplications();
  } catch (err) { fail(err); }
}

async function loadApplications() {
  const out = await me("/v1/sharing/applications");
  const rows = out.applications.map((a) => el("li", { class: "card", id: "application-" + a.application_id },
    t("application", { id: a.application_id, plates: a.plates.join("、"), status: a.status })));
  document.getElementById("applications").replaceChildren(...(rows.length ? rows : [el("li", {}, t("none"))]));
}

async function raiseTicket(e) {
  e.preventDefault();
  try {
    const lot = document.getElementById("ticket-lot").value.trim();
    await me("/v1/me/tickets", { method: "POST", body: JSON.stringify({ category: document.getElementById("ticket-category").value,
      description: document.getElementById("ticket-text").value, ...(lot ? { lot_id: lot } : {}) }) });
    say(t("done")); await loadTickets();
  } catch (err) { fail(err); }
}

async function confirmTicket(ticket, satisfied) {
  try {
    await me(`/v1/me/tickets/${encodeURIComponent(ticket.ticket_id)}/confirm`, { method: "POST", body: JSON.stringify({ satisfied }) });
    await loadTickets();
  } catch (err) { fail(err); }
}

async function loadTickets() {
  const out = await me("/v1/me/tickets");
  const rows = out.tickets.map((k) => el("li", { class: "card", id: "ticket-" + k.ticket_id },
    el("strong", {}, t("ticket_line", { id: k.ticket_id, status: k.status })), el("br"), k.description || "",
    ...(k.resolution ? [el("p", { class: "muted" }, t("resolution", { text: k.resolution }))] : []),
    ...(k.status === "resolved" ? [
      el("button", { type: "button", id: "confirm-" + k.ticket_id, onclick: () => confirmTicket(k, true) }, t("satisfied")),
      el("button", { type: "button", class: "secondary", id: "reopen-" + k.ticket_id, onclick: () => confirmTicket(k, false) }, t("unsatisfied"))] : [])));
  document.getElementById("tickets").replaceChildren(...(rows.length ? rows : [el("li", {}, t("none"))]));
}

function fillChoices() {
  const category = document.getElementById("ticket-category");
  const was = category.value;
  category.replaceChildren(...["gate_fault", "wrong_charge", "service", "information", "suggestion"].map((c) => el("option", { value: c }, t(c))));
  if (was) category.value = was;
  const plate = document.getElementById("book-plate");
  plate.replaceChildren(...(plates.length ? plates.map((p) => el("option", { value: p }, p)) : [el("option", { value: "" }, t("no_plates"))]));
}

async function load() {
  fillChoices();
  if (!token()) { say(t("not_signed_in")); return; }
  try {
    plates = (await me("/v1/me/account")).plates || [];
    fillChoices();
    await Promise.all([loadBookings(), loadApplications(), loadTickets()]);
  } catch (err) { fail(err); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("hospital-lot").value = params.get("lot") || "";
  document.getElementById("offer-id").value = params.get("offer") || "";
  document.getElementById("book-date").value = params.get("date") || shanghaiDay(new Date());
  document.getElementById("show-slots").addEventListener("click", showSlots);
  document.getElementById("book").addEventListener("submit", book);
  document.getElementById("show-offer").addEventListener("click", showOffer);
  document.getElementById("apply").addEventListener("submit", apply);
  document.getElementById("ticket").addEventListener("submit", raiseTicket);
  load();
});
document.addEventListener("langchange", load);
