// The service window: sign in by phone, open pay-later, prove plates, see and pay bills, dispute, notices.
"use strict";
Object.assign(T.zh, { phone: "手机号", send_code: "获取验证码", code: "验证码", sign_in: "登录", code_sent: "验证码已发送。",
  pay_later: "先离场后付费", open_account: "同意条款并开通先离场后付费", save_method: "绑定免密支付方式",
  add_plate: "添加车牌（验证码发到行驶证登记手机）", verify_plate: "验证车牌", bills: "我的账单", notices: "官方通知",
  notice_hint: "官方通知不含任何链接；请只在本服务窗口内缴费。", status: "状态", plates: "已验证车牌",
  method_ready: "已绑定支付方式", method_missing: "尚未绑定支付方式", pay_bill: "支付", dispute: "申诉",
  reason: "申诉理由", detail: "说明", submit_dispute: "提交申诉", disputed: "已提交申诉，等待区里处理。",
  refund: "退款 {amount}（{reason}）", none: "暂无", plate_verified: "车牌已验证。",
  choose: "选中合并支付", pay_together: "合并支付所选 {n} 笔，共 {amount}", choose_some: "勾选欠费账单，一次付清",
  one_operator: "不同运营单位的账单分别结算到各自账户，请按运营单位分开合并支付。",
  services_link: "便民服务：医院预约停车、错时共享、投诉工单", more_bills: "更多账单" });
Object.assign(T.en, { phone: "Mobile number", send_code: "Send code", code: "Code", sign_in: "Sign in", code_sent: "Code sent.",
  pay_later: "Leave first, pay later", open_account: "Accept the terms and turn on pay-later", save_method: "Save a payment method",
  add_plate: "Add a plate (a code goes to the registered phone)", verify_plate: "Verify plate", bills: "My bills", notices: "Official notices",
  notice_hint: "Official notices never contain links: pay only in this service window.", status: "Status", plates: "Verified plates",
  method_ready: "Payment method saved", method_missing: "No payment method yet", pay_bill: "Pay", dispute: "Dispute",
  reason: "Reason", detail: "Details", submit_dispute: "Send dispute", disputed: "Dispute sent; the district will decide.",
  refund: "Refund {amount} ({reason})", none: "None", plate_verified: "Plate verified.",
  choose: "Pay together", pay_together: "Pay the {n} chosen bills: {amount}", choose_some: "Tick unpaid bills to pay them in one payment",
  one_operator: "Bills of different operators settle into different accounts: pay them per operator.",
  services_link: "Services: hospital parking, shared parking, hotline tickets", more_bills: "More bills" });
const REASONS = { misread_plate: ["不是我的车", "Not my car"], missed_exit: ["离场时间有误", "I left earlier"],
  phantom_session: ["我没有来过", "I was never there"], other: ["其他", "Other"] };

const citizen = () => localStorage.getItem("citizenToken") || "";
const me = (path, options) => api(path, { ...(options || {}), headers: { Authorization: "Bearer " + citizen() } });
let challenge = "";
const say = (text) => document.getElementById("message").replaceChildren(el("p", { class: "card", role: "status" }, text));

async function sendCode() {
  try {
    challenge = (await api("/v1/auth/sms-code", { method: "POST", body: JSON.stringify({ phone: document.getElementById("phone").value }) })).challenge;
    say(t("code_sent"));
  } catch (err) { showError(document.getElementById("message"), err); }
}

async function signIn(e) {
  e.preventDefault();
  try {
    const out = await api("/v1/auth/token", { method: "POST", body: JSON.stringify({
      phone: document.getElementById("phone").value, code: document.getElementById("login-code").value, challenge }) });
    localStorage.setItem("citizenToken", out.token);
    load();
  } catch (err) { showError(document.getElementById("message"), err); }
}

function accountCard(account) {
  const body = document.getElementById("account-body");
  if (!account) {
    body.replaceChildren(el("button", { type: "button", id: "open-account", onclick: async () => {
      await me("/v1/me/account", { method: "POST", body: JSON.stringify({ consent: true }) }); load(); } }, t("open_account")));
    return;
  }
  body.replaceChildren(el("dl", {},
    el("dt", {}, t("status")), el("dd", { id: "account-status" }, account.status),
    el("dt", {}, t("plates")), el("dd", { id: "plates" }, (account.plates || []).join("、") || t("none"))),
    el("p", { id: "method" }, account.method && account.method.ready ? t("method_ready") : t("method_missing")),
    ...(account.method && account.method.ready ? [] : [el("button", { type: "button", id: "save-method", class: "secondary",
      onclick: async () => { await me("/v1/me/payment-method", { method: "POST" }); load(); } }, t("save_method"))]));
  document.getElementById("notices").replaceChildren(...((account.notices || []).length ? account.notices.slice().reverse().map((n) =>
    el("li", { class: "card" }, el("span", { class: "muted" }, when(n.at)), el("br"), n.text)) : [el("li", {}, t("none"))]));
}

function disputeForm(bill) {
  const select = el("select", { id: "reason-" + bill.bill_id });
  for (const [value, names] of Object.entries(REASONS)) select.append(el("option", { value }, names[lang() === "zh" ? 0 : 1]));
  const detail = el("input", { id: "detail-" + bill.bill_id });
  return el("form", { class: "dispute", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await me(`/v1/me/bills/${encodeURIComponent(bill.bill_id)}/disputes`, { method: "POST",
          body: JSON.stringify({ reason: select.value, detail: detail.value }) });
        say(t("disputed")); load();
      } catch (err) { showError(document.getElementById("message"), err); } } },
    el("label", { for: select.id }, t("reason")), select, el("label", { for: detail.id }, t("detail")), detail,
    el("button", { type: "submit", class: "secondary", id: "dispute-" + bill.bill_id }, t("submit_dispute")));
}

async function payBill(bill) {
  try {
    const payment = await api(`/v1/bills/${encodeURIComponent(bill.bill_id)}/payments`, { method: "POST", body: JSON.stringify({ channel: "wechat_pay" }) });
    const next = new URL(payment.next_action_url);
    next.searchParams.set("return", `${location.origin}/web/receipt.html?payment=${encodeURIComponent(payment.payment_id)}`);
    location.assign(next.toString());
  } catch (err) { showError(document.getElementById("message"), err); }
}

// Several unpaid bills (arrears) in one payment: the bills must share their operator (its own account, S9).
const chosen = new Map();
function togetherButton() {
  const button = document.getElementById("pay-together");
  const hint = document.getElementById("together-hint");
  const bills = [...chosen.values()];
  const operators = new Set(bills.map((b) => b.operator_id));
  const total = bills.reduce((sum, b) => sum + b.due_fen, 0);
  button.disabled = bills.length === 0 || operators.size > 1;
  button.textContent = bills.length ? t("pay_together", { n: bills.length, amount: yuan(total) }) : t("choose_some");
  hint.textContent = operators.size > 1 ? t("one_operator") : "";
}

async function payTogether() {
  try {
    const payment = await me("/v1/me/payments", { method: "POST", body: JSON.stringify({ bill_ids: [...chosen.keys()], channel: "wechat_pay" }) });
    const next = new URL(payment.next_action_url);
    next.searchParams.set("return", `${location.origin}/web/receipt.html?payment=${encodeURIComponent(payment.payment_id)}`);
    location.assign(next.toString());
  } catch (err) { showError(document.getElementById("message"), err); }
}

function chooser(bill) {
  const box = el("input", { type: "checkbox", id: "choose-" + bill.bill_id, class: "choose", onchange: () => {
    if (box.checked) chosen.set(bill.bill_id, bill); else chosen.delete(bill.bill_id);
    togetherButton(); } });
  if (chosen.has(bill.bill_id)) box.checked = true;
  return el("label", { for: box.id, class: "check" }, box, " ", t("choose"));
}

function billsList(data) {
  const payable = (b) => b.due_fen > 0 && (b.status === "due" || b.status === "in_arrears");
  for (const id of [...chosen.keys()]) if (!data.bills.some((b) => b.bill_id === id && payable(b))) chosen.delete(id);
  const rows = data.bills.map((b) => el("li", { class: "card bill", id: "bill-" + b.bill_id },
    el("strong", {}, `${b.plate} · ${yuan(b.amount_fen)}`), " ", el("span", { class: "muted" }, `${b.status} · ${when(b.exited_at)}`),
    ...(b.refunds || []).map((r) => el("p", { class: "refund" }, t("refund", { amount: yuan(r.amount_fen), reason: r.reason }))),
    ...(payable(b) ? [chooser(b)] : []),
    ...(b.due_fen ? [el("button", { type: "button", id: "pay-" + b.bill_id, onclick: () => payBill(b) }, `${t("pay_bill")} ${yuan(b.due_fen)}`)] : []),
    ...(b.status !== "disputed" && b.status !== "open" ? [disputeForm(b)] : [])));
  document.getElementById("bills").replaceChildren(...(rows.length ? rows : [el("li", {}, t("none"))]));
  document.getElementById("together").hidden = !data.bills.some(payable);
  togetherButton();
}

// The bills come a page at a time, newest first (GET /v1/me/bills?cursor=): "more" appends the next page.
let shownBills = [], nextBills = null;
async function loadBills(more) {
  const page = await me("/v1/me/bills" + (more && nextBills ? `?cursor=${encodeURIComponent(nextBills)}` : ""));
  shownBills = more ? [...shownBills, ...page.bills.filter((b) => !shownBills.some((s) => s.bill_id === b.bill_id))] : page.bills;
  nextBills = page.next_cursor || null;
  billsList({ ...page, bills: shownBills });
  document.getElementById("more-bills").hidden = !nextBills;
}

async function load() {
  const signedIn = !!citizen();
  document.getElementById("login").hidden = signedIn;
  document.getElementById("account").hidden = !signedIn;
  if (!signedIn) return;
  let account = null;
  try { account = await me("/v1/me/account"); } catch (err) { if (!/account/i.test(err.message)) { localStorage.removeItem("citizenToken"); return load(); } }
  accountCard(account);
  if (account) await loadBills(false);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("send-code").addEventListener("click", sendCode);
  document.getElementById("pay-together").addEventListener("click", payTogether);
  document.getElementById("more-bills").addEventListener("click", async () => {
    try { await loadBills(true); } catch (err) { showError(document.getElementById("message"), err); }
  });
  document.getElementById("login").addEventListener("submit", signIn);
  document.getElementById("add-plate").addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await me("/v1/me/plates", { method: "POST", body: JSON.stringify({ plate: document.getElementById("plate-input").value }) }); say(t("code_sent")); }
    catch (err) { showError(document.getElementById("message"), err); }
  });
  document.getElementById("verify-plate").addEventListener("click", async () => {
    try {
      await me("/v1/me/plates/verify", { method: "POST", body: JSON.stringify({
        plate: document.getElementById("plate-input").value, code: document.getElementById("plate-code").value }) });
      say(t("plate_verified")); load();
    } catch (err) { showError(document.getElementById("message"), err); }
  });
  load();
});
document.addEventListener("langchange", load);
