// steady_day: an ordinary day on every channel, at RATE actions/s (150) for
// DURATION (10m): patients browse, book and sometimes cancel, join and leave
// waitlists; operators book by phone; clerks take walk-ins and check patients
// in. It is the memory run too: the runner reports resident size over time.
import exec from 'k6/execution';
import http from 'k6/http';
import { SharedArray } from 'k6/data';
import { base, headers, patients, seed, book, logBooked, outcomes, outcome, outcomeThresholds, outcomeNames } from './lib.js';

const staff = JSON.parse(open(`${__ENV.RUN_DIR}/staff.json`));
// [patient_id, id_type, id_number, name] of the first genuine patients:
// synthetic people the seed wrote for the desk and the phone.
const people = new SharedArray('people', () =>
  open(`${__ENV.RUN_DIR}/identities.csv`).split('\n').filter((l) => l && !l.startsWith('#')).slice(1).map((l) => l.split(',')));
const steady = seed.steady_sessions.map((s) => s.id);
const released = seed.sessions.map((s) => s.id);
// The privacy notice's version (booking.PrivacyNoticeVersion) an operator or
// clerk took a new person's consent to (review21 H3, session 23).
const PRIVACY_NOTICE = '2026-12-05';

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    day: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 150),
      timeUnit: '1s',
      duration: __ENV.DURATION || '10m',
      preAllocatedVUs: 50,
      maxVUs: 400,
    },
  },
  thresholds: Object.assign({
    'http_req_duration': ['p(99)<100'],
    'http_req_failed': ['rate<0.0001'],
  }, outcomeThresholds(outcomeNames.concat(['200', '204', '404 booking_not_found', '422 identity_mismatch', '422 session_closed']))),
};

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
// Ten desk windows and ten phone lines: each staff account stays within its
// per-account rate limit, as it would in a hospital.
const clerk = () => pick(staff.clerk_tokens);
const operator = () => pick(staff.operator_tokens);

function count(res) {
  outcomes.add(1, { outcome: outcome(res) });
  return res;
}

function countBooking(res) {
  logBooked(res);
  return count(res);
}

export default function () {
  const i = exec.scenario.iterationInTest;
  const n = Math.floor(Math.random() * people.length);
  const [patientID, idType, idNumber, name] = people[n];
  const [token] = patients[n]; // identities.csv follows patients.csv's order
  const r = Math.random();
  if (r < 0.35) { // browse a hospital's upcoming sessions
    count(http.get(`${base}/v1/hospitals/${seed.hospital_id}/sessions`, { headers: headers(token, n), tags: { name: 'sessions' } }));
  } else if (r < 0.55) { // book today, check in at the desk, or cancel
    const res = book(token, patientID, pick(steady), n);
    if (res.status === 201) {
      const id = res.json('booking_id');
      if (Math.random() < 0.3) {
        count(http.del(`${base}/v1/bookings/${id}`, null, { headers: headers(token, n), tags: { name: 'cancel' } }));
      } else {
        count(http.post(`${base}/v1/desk/checkins`, JSON.stringify({ booking_id: id, id_type: idType, id_number: idNumber, name }),
          { headers: headers(clerk(), 1), tags: { name: 'checkin' } }));
      }
    }
  } else if (r < 0.65) { // join a sold-out session's waitlist, sometimes leave it
    const res = count(http.post(`${base}/v1/waitlist`, JSON.stringify({ session_id: pick(released), patient_id: patientID }),
      { headers: headers(token, n), tags: { name: 'waitlist' } }));
    if (res.status === 201 && Math.random() < 0.5) {
      count(http.del(`${base}/v1/waitlist/${res.json('waitlist_id')}`, null, { headers: headers(token, n), tags: { name: 'waitlist_leave' } }));
    }
  } else if (r < 0.75) { // an operator books for a caller
    // privacy_consent: the operator read the notice and the caller agreed
    // (booking.PrivacyNoticeVersion; a new person is refused without it).
    countBooking(http.post(`${base}/v1/phone/bookings`, JSON.stringify({ session_id: pick(steady), id_type: idType, id_number: idNumber, name,
      privacy_consent: PRIVACY_NOTICE, guardian_consent: true,
      caller_phone: `139${String(10000000 + (n % 89999999)).padStart(8, '0')}` }), { headers: headers(operator(), 2), tags: { name: 'phone' } }));
  } else if (r < 0.85) { // a walk-in at the desk
    countBooking(http.post(`${base}/v1/desk/bookings`, JSON.stringify({ session_id: pick(steady), id_type: idType, id_number: idNumber, name,
      privacy_consent: PRIVACY_NOTICE, guardian_consent: true }),
      { headers: headers(clerk(), 1), tags: { name: 'walkin' } }));
  } else { // a patient reads their bookings
    count(http.get(`${base}/v1/bookings`, { headers: headers(token, n), tags: { name: 'bookings' } }));
  }
  void i;
}
