// Where the payer comes back to: waits for the provider's callback to settle the payment, then shows it.
"use strict";
const paymentId = new URLSearchParams(location.search).get("payment") || "";
let payment = null;
Object.assign(T.zh, { bills_paid: "合并支付账单数" });
Object.assign(T.en, { bills_paid: "Bills paid together" });

function render() {
  const where = document.getElementById("receipt");
  if (!payment) return;
  if (payment.state === "succeeded") {
    where.replaceChildren(el("div", { class: "card", id: "receipt-card" },
      el("p", { class: "amount" }, "✓ " + t("paid") + " " + yuan(payment.amount_fen)),
      el("dl", {},
        el("dt", {}, t("payment_id")), el("dd", {}, payment.payment_id),
        el("dt", {}, t("pay_with")), el("dd", {}, t(payment.channel)),
        el("dt", {}, t("amount")), el("dd", {}, yuan(payment.amount_fen)),
        ...(Object.keys(payment.allocations || {}).length > 1
          ? [el("dt", {}, t("bills_paid")), el("dd", { id: "bills-paid" }, String(Object.keys(payment.allocations).length))] : []))));
  } else if (payment.state === "failed") {
    where.replaceChildren(el("p", { class: "error", role: "alert" }, t("declined")));
  }
}

async function poll() {
  for (let i = 0; i < 60; i++) {
    try {
      payment = await api(`/v1/payments/${encodeURIComponent(paymentId)}`);
      render();
      if (payment.state === "succeeded" || payment.state === "failed") return;
    } catch (err) { showError(document.getElementById("receipt"), err); return; }
    await new Promise((r) => setTimeout(r, 500));
  }
}
document.addEventListener("DOMContentLoaded", poll);
document.addEventListener("langchange", render);
