// Where the payer comes back to: waits for the provider's callback to settle the payment, then shows it.
"use strict";
const paymentId = new URLSearchParams(location.search).get("payment") || "";
let payment = null;

function render() {
  const where = document.getElementById("receipt");
  if (!payment) return;
  if (payment.state === "succeeded") {
    where.replaceChildren(el("div", { class: "card", id: "receipt-card" },
      el("p", { class: "amount" }, "✓ " + t("paid") + " " + yuan(payment.amount_fen)),
      el("dl", {},
        el("dt", {}, t("payment_id")), el("dd", {}, payment.payment_id),
        el("dt", {}, t("pay_with")), el("dd", {}, t(payment.channel)),
        el("dt", {}, t("amount")), el("dd", {}, yuan(payment.amount_fen)))));
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
