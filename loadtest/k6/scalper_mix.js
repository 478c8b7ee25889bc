// scalper_mix: genuine patients and scalper bots race for a release. Bots
// hold several identities per account (patients.csv kind "bot"), react the
// instant the pool opens, and retry far faster than a person; they arrive
// through a handful of addresses and share devices. The runner reports the
// share of slots each group won; the defences are the per-account and
// per-IP limits (429) and the quotas per identity.
import exec from 'k6/execution';
import http from 'k6/http';
import { sleep } from 'k6';
import { base, headers, patients, seed, book, outcomeThresholds, outcomeNames } from './lib.js';

const rate = Number(__ENV.RATE || 5000);
const hold = __ENV.DURATION || '30s';
const startDelay = Math.max(0, Number(__ENV.START_DELAY || 0));
const sessions = seed.sessions.map((s) => s.id);
// loadseed writes the genuine patients first, then the bots' account by
// account. Every VU runs this init, and each read of the SharedArray decodes
// a line: so only the bots' lines at the end are read here (a scan of all
// 20,000 lines by each of 350 VUs took minutes on a busy machine, and the
// release had passed before the load began).
let firstBot = patients.length;
while (firstBot > 0 && patients[firstBot - 1][3] === 'bot') firstBot--;
const botLines = [];
for (let i = firstBot; i < patients.length; i++) botLines.push([i, patients[i][2]]);
const botAccountIDs = [...new Set(botLines.map((b) => b[1]))];
const botAccounts = Math.max(1, botAccountIDs.length);

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    // People: an open arrival of attempts from the genuine patients,
    // starting a couple of seconds after T (a person's reaction).
    people: {
      executor: 'constant-arrival-rate', exec: 'person',
      startTime: `${startDelay + 2}s`, rate, timeUnit: '1s', duration: hold,
      preAllocatedVUs: 300, maxVUs: 1000,
    },
    // Bots: one VU per bot account, hammering from 0.5s before T with no
    // pause, cycling through the identities the account holds.
    bots: {
      executor: 'constant-vus', exec: 'bot',
      startTime: `${Math.max(0, startDelay - 0.5)}s`, vus: botAccounts, duration: hold,
    },
  },
  thresholds: Object.assign({ 'http_req_failed': ['rate<0.0001'] }, outcomeThresholds(outcomeNames)),
};

export function person() {
  const n = exec.scenario.iterationInTest % Math.max(1, firstBot);
  const [token, patientID] = patients[n];
  book(token, patientID, sessions[n % sessions.length], n);
}

export function bot() {
  // One VU per bot account (the VUs of the bots scenario come after the
  // people's, so number them within it).
  const vu = exec.vu.idInTest - 1;
  const account = botAccountIDs[vu % botAccounts];
  const mine = botLines.filter((b) => b[1] === account).map((b) => b[0]);
  const k = exec.vu.iterationInScenario;
  const n = mine[k % mine.length];
  const [token, patientID] = patients[n];
  // A bot farm: ten addresses, three devices.
  book(token, patientID, sessions[k % sessions.length], n, 'online', { 'X-Device-Id': `farm-${vu % 3}`, 'X-Forwarded-For': `172.16.0.${vu % 10}` });
  if (k % 50 === 49) sleep(0.01);
}
