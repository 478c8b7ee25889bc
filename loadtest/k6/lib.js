// Shared parts of the fairslot k6 scenarios. The runner (loadtest/run)
// seeds a population with loadtest/loadseed (`bin/loadseed --out RUN_DIR`)
// and passes:
//   RUN_DIR     the seed's files (patients.csv, sessions.json, staff.json)
//   BASE_URL    the service, e.g. http://127.0.0.1:18080
//   START_DELAY seconds from k6's start until the release (release_hour)
// Every request carries X-Forwarded-For with a synthetic client address
// (the service trusts loopback as its proxy), so the per-IP limit sees many
// clients, as it would behind a hospital's load balancer.
import { SharedArray } from 'k6/data';
import { Counter } from 'k6/metrics';
import http from 'k6/http';

export const dir = __ENV.RUN_DIR;
export const base = __ENV.BASE_URL || 'http://127.0.0.1:18080';

// [token, patient_id, account_id, kind] per line of patients.csv.
export const patients = new SharedArray('patients', () =>
  open(`${dir}/patients.csv`).split('\n').slice(1).filter((l) => l && !l.startsWith('#')).map((l) => l.split(',')));

export const seed = JSON.parse(open(`${dir}/sessions.json`));

// Outcomes of every booking-like request, tagged by what the service said.
export const outcomes = new Counter('outcomes');

// 201, 202 (an entry in a lottery pool's draw), 409, 422 and 429 are
// answers the service means to give under a stampede; only 5xx and
// transport errors count as failed requests.
http.setResponseCallback(http.expectedStatuses(200, 201, 202, 204, 409, 422, 429));

export function clientIP(n) {
  // 50,000 distinct addresses in 10.0.0.0/8: about four patients each,
  // as households and carrier NATs share addresses.
  const a = n % 50000;
  return `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`;
}

export function headers(token, n, extra) {
  return Object.assign({
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
    'X-Forwarded-For': clientIP(n),
    'X-Device-Id': `dev-${n}`,
  }, extra || {});
}

// outcome names a response as the runner's report does: "201",
// "409 sold_out", "429", "5xx", "error" (no answer).
export function outcome(res) {
  if (res.status === 0) return 'error';
  if (res.status >= 500) return '5xx';
  if (res.status === 409 || res.status === 422 || res.status === 404) {
    const m = /"code":"([a-z_]+)"/.exec(res.body || '');
    return `${res.status} ${m ? m[1] : '?'}`;
  }
  return `${res.status}`;
}

// book makes one attempt and counts its outcome. A 201 is logged as
// "BOOKED <id>" so the runner can check every confirmation against SQL.
export function book(token, patientID, sessionID, n, channel, extraHeaders) {
  const res = http.post(`${base}/v1/bookings`, JSON.stringify({ session_id: sessionID, patient_id: patientID, channel: channel || 'online' }),
    { headers: headers(token, n, extraHeaders), tags: { name: 'book' } });
  outcomes.add(1, { outcome: outcome(res) });
  logBooked(res);
  return res;
}

// logBooked logs a booking's 201, and a lottery entry's 202, for the
// runner's checks.
export function logBooked(res) {
  if (res.status === 201) {
    console.log(`BOOKED ${res.json('booking_id')}`);
  } else if (res.status === 202) {
    console.log(`ENTERED ${res.json('request_id')}`);
  }
}

// thresholdsFor declares the outcome sub-metrics so the summary lists them.
export function outcomeThresholds(names) {
  const t = {};
  for (const n of names) t[`outcomes{outcome:${n}}`] = ['count>=0'];
  return t;
}

export const outcomeNames = ['201', '202', '409 already_entered', '409 sold_out', '409 already_booked', '409 person_booked_elsewhere', '422 not_released', '422 patient_barred',
  '422 quota_day', '422 quota_week', '422 quota_month', '422 quota_day_department', '429', '5xx', 'error'];
