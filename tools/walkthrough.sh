#!/usr/bin/env bash
# README's walk-through, as it is typed: run it from the repository root while `make run` is up
# (same TONGTING_API_PORT / TONGTING_PAY_APP_PORT). tests/test_walkthrough.py runs it against a fresh stack.
set -euo pipefail
PY=${PY:-.venv/bin/python}
API=http://127.0.0.1:${TONGTING_API_PORT:-8000}
PAYAPP=http://127.0.0.1:${TONGTING_PAY_APP_PORT:-8001}
PLATE=${PLATE:-苏B12345}
field() { "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }

echo "== an entry three hours ago, an exit now"
"$PY" -m tools.device_cli entry --device liangxi-lot-01-in1 --plate "$PLATE" --lane in-1 --ago 3h >/dev/null
"$PY" -m tools.device_cli exit --device liangxi-lot-01-out1 --plate "$PLATE" | tee /tmp/tongting-exit.$$ | sed -n '1p'
echo "== the lane's pay code: the bill, plate masked"
curl -sf "$API/v1/pay/liangxi-lot-01?lane=out-1" -H 'Accept: application/json' > /tmp/tongting-bill.$$
bill_id=$(field bill.bill_id < /tmp/tongting-bill.$$)
echo "bill $bill_id due $(field bill.due_fen < /tmp/tongting-bill.$$) fen for $(field bill.plate < /tmp/tongting-bill.$$)"
echo "== pay with WeChat Pay; the payer approves in the payment app"
curl -sf -X POST "$API/v1/pay/liangxi-lot-01/payments" -H 'Content-Type: application/json' \
  -d "{\"bill_id\":\"$bill_id\",\"channel\":\"wechat_pay\"}" > /tmp/tongting-pay.$$
payment_id=$(field payment_id < /tmp/tongting-pay.$$)
ref=$(field next_action_url < /tmp/tongting-pay.$$ | sed 's#.*/pay/##; s#[?].*##')
curl -sf -X POST "$PAYAPP/pay/$ref/approve" >/dev/null
for _ in $(seq 1 30); do   # the sandbox's signed callback reaches the API within a second or two
  state=$(curl -sf "$API/v1/payments/$payment_id" | field state)
  [ "$state" = succeeded ] && break; sleep 0.5
done
echo "payment $payment_id $state"
echo "== the ledger balances"
curl -sf -H "Authorization: Bearer $(cat .local/admin-token)" "$API/v1/admin/ledger/check" | field sound
echo "== the lot, and lots near a point"
curl -sf "$API/v1/lots/liangxi-lot-01" | field free
curl -sf "$API/v1/lots?lat=31.57&lon=120.30&radius_m=3000" | field lots.0.lot_id
rm -f /tmp/tongting-*.$$
[ "$state" = succeeded ]
