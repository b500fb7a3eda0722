// Shared by every page: the language (Chinese first, English available), the API calls, money and time.
"use strict";
const T = {
  zh: {
    title: "无锡停车", find: "找车位", pay: "缴费", me: "我的", lang: "English",
    bill: "停车账单", plate: "车牌", lot: "停车场", entered: "入场", exited: "离场", due: "应付",
    pay_with: "选择支付方式", wechat_pay: "微信支付", alipay: "支付宝", unionpay: "云闪付",
    nothing_due: "无需付费，一路顺风。", paid: "已支付", receipt: "电子收据", waiting: "正在确认付款…",
    payment_id: "付款单号", amount: "金额", arrears: "欠费（可一并补缴）",
    near: "附近停车场", lat: "纬度", lon: "经度", search: "搜索", near_me: "我的位置",
    free_of: "空位 {free} / {total}", closed: "未营业", offline: "数据暂缺", distance: "距离 {m} 米",
    guide: "导航前往", open_map: "用地图应用导航", hour_price: "停 1 小时约 {p}",
    no_lots: "附近没有停车场。", map_view: "地图视图", list_view: "列表",
    failed: "出错了：", declined: "付款未成功，请重试。",
  },
  en: {
    title: "Wuxi Parking", find: "Find parking", pay: "Pay", me: "Me", lang: "中文",
    bill: "Parking bill", plate: "Plate", lot: "Car park", entered: "Entered", exited: "Left", due: "Due",
    pay_with: "Pay with", wechat_pay: "WeChat Pay", alipay: "Alipay", unionpay: "UnionPay",
    nothing_due: "Nothing to pay. Drive safely.", paid: "Paid", receipt: "Receipt", waiting: "Confirming the payment…",
    payment_id: "Payment", amount: "Amount", arrears: "Arrears (can be paid now too)",
    near: "Car parks nearby", lat: "Latitude", lon: "Longitude", search: "Search", near_me: "Near me",
    free_of: "{free} of {total} free", closed: "Closed now", offline: "No live data", distance: "{m} m away",
    guide: "Guide me", open_map: "Open in a map app", hour_price: "About {p} for 1 hour",
    no_lots: "No car parks nearby.", map_view: "Map", list_view: "List",
    failed: "Something went wrong: ", declined: "The payment did not go through; try again.",
  },
};
const lang = () => localStorage.getItem("lang") || "zh";
function t(key, vars) {
  let text = (T[lang()] || T.zh)[key] || key;
  for (const [k, v] of Object.entries(vars || {})) text = text.replace("{" + k + "}", v);
  return text;
}
function translate() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
}
function toggleLang() {
  localStorage.setItem("lang", lang() === "zh" ? "en" : "zh");
  translate();
  document.dispatchEvent(new Event("langchange"));
}
function yuan(fen) { return "¥" + (fen / 100).toFixed(2); }
function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", dateStyle: "short", timeStyle: "short" });
}
async function api(path, options) {
  const resp = await fetch(path, { ...(options || {}), headers: { Accept: "application/json", "Content-Type": "application/json", ...((options || {}).headers || {}) } });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.message || resp.status);
  return body;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
function showError(where, err) { where.replaceChildren(el("p", { class: "error", role: "alert" }, t("failed") + err.message)); }
document.addEventListener("DOMContentLoaded", () => {
  translate();
  const button = document.getElementById("lang");
  if (button) button.addEventListener("click", toggleLang);
});
