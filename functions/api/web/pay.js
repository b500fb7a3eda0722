// The pay code's page: the URL printed as a lot's or lane's QR code (/v1/pay/{lot}?lane=|plate=) opens this.
"use strict";
const lotId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[2] || "");
let data = null;

function billCard(bill) {
  return el("div", { class: "card", id: "bill-card" },
    el("dl", {},
      el("dt", {}, t("lot")), el("dd", { id: "lot-name" }, data.lot_name || bill.lot_id),
      el("dt", {}, t("plate")), el("dd", { id: "plate" }, bill.plate),
      el("dt", {}, t("entered")), el("dd", {}, when(bill.entered_at)),
      el("dt", {}, t("exited")), el("dd", {}, when(bill.exited_at || bill.priced_until))),
    el("p", { class: "muted" }, t("due")),
    el("p", { class: "amount", id: "due" }, yuan(bill.due_fen)));
}

function render() {
  const where = document.getElementById("bill");
  if (!data) return;
  where.replaceChildren(billCard(data.bill));
  const arrears = document.getElementById("arrears");
  arrears.replaceChildren(...(data.arrears.length ? [el("h3", {}, t("arrears")),
    ...data.arrears.map((b) => el("p", {}, `${b.lot_id} · ${when(b.exited_at)} · ${yuan(b.due_fen)}`))] : []));
  const section = document.getElementById("channels");
  if (!data.bill.due_fen) {
    where.append(el("p", { id: "nothing-due" }, t("nothing_due")));
    section.hidden = true;
    return;
  }
  section.hidden = false;
  document.getElementById("channel-buttons").replaceChildren(...data.channels.map((c) =>
    el("button", { type: "button", id: "pay-" + c, onclick: () => pay(c) }, `${t(c)} ${yuan(data.bill.due_fen)}`)));
}

async function pay(channel) {
  try {
    const payment = await api(`/v1/pay/${encodeURIComponent(lotId)}/payments`, {
      method: "POST", body: JSON.stringify({ bill_id: data.bill.bill_id, channel }) });
    const back = `${location.origin}/web/receipt.html?payment=${encodeURIComponent(payment.payment_id)}`;
    const next = new URL(payment.next_action_url);
    next.searchParams.set("return", back);
    location.assign(next.toString());
  } catch (err) { showError(document.getElementById("bill"), err); }
}

async function load() {
  try {
    data = await api(location.pathname + location.search);
    render();
  } catch (err) { showError(document.getElementById("bill"), err); }
}
document.addEventListener("DOMContentLoaded", load);
document.addEventListener("langchange", render);
