// graphql-http's server audit (the GraphQL over HTTP specification's
// checks, as its reference implementation runs them) against a running
// pricegraph: `node audit.mjs http://127.0.0.1:PORT/graphql`.
//
// Prints every audit (id, status, name; the reason under any that is not
// ok) and the figures per level. Fails on any MUST that fails, and on any
// SHOULD or MAY that fails without being listed in LEFT below with the
// reason it is left: a new failure is either fixed or written down there.
//
// Left as they are, on purpose: none. Every SHOULD and every MAY passes
// with graphql-http 1.23.1. The two that failed before were fixed in the
// server, each with a test in tests/api/conventions.rs:
// - D586, 5E5B (SHOULD not contain the data entry on document parsing /
//   validation failure): an answer to a request that never ran had
//   `"data": null`; it now has no `data` entry, as the GraphQL
//   specification says (a_request_that_never_ran_has_no_data_entry).
// - 8764, 3E3A (MAY use 4xx / 400 if parameters are invalid, a body with
//   `qeury` for `query`): it was run as an empty document, 200 with a parse
//   error pointing at nothing; a request with no query and no persisted
//   query hash is now 400 BAD_REQUEST saying so
//   (a_request_without_a_query_is_a_bad_request_saying_so).
// Two policies the audit does not contradict, checked to stay so: POST
// must be `application/json` (CSRF: 9ABE, 4xx without a content type,
// passes), and a hash-only persisted query (Apollo's APQ) is answered 200
// PERSISTED_QUERY_NOT_FOUND, which no audit sends.
import { serverAudits } from 'graphql-http';

// Audits that fail on purpose, by id: the reason they are left.
const LEFT = {};

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  try {
    results.push(await audit.fn());
  } catch (error) {
    // A fatal audit (the server did not answer, …) counts as failed.
    results.push({ id: audit.id, name: audit.name, status: 'error', reason: `threw: ${error}` });
  }
}

const level = (result) => result.name.split(' ')[0];
for (const result of results) {
  console.log(`${result.id}  ${result.status.padEnd(6)}  ${result.name}`);
  if (result.status !== 'ok') {
    const answered = result.response ? ` (answered ${result.response.status})` : '';
    console.log(`              ${result.reason}${answered}`);
    if (LEFT[result.id]) console.log(`              left on purpose: ${LEFT[result.id]}`);
  }
}

console.log();
for (const name of ['MUST', 'SHOULD', 'MAY']) {
  const of = results.filter((result) => level(result) === name);
  const ok = of.filter((result) => result.status === 'ok').length;
  console.log(`${name.padEnd(6)} ${ok}/${of.length} ok`);
}
const shoulds = results.filter((result) => level(result) === 'SHOULD');
console.log('\nSHOULD results:');
for (const result of shoulds) console.log(`  ${result.id} ${result.status.padEnd(6)} ${result.name}`);

const failedMust = results.filter((result) => level(result) === 'MUST' && result.status !== 'ok');
const unlisted = results.filter(
  (result) => level(result) !== 'MUST' && result.status !== 'ok' && !(result.id in LEFT),
);
const fixed = Object.keys(LEFT).filter((id) => results.some((result) => result.id === id && result.status === 'ok'));
let failed = false;
if (failedMust.length > 0) {
  console.error(`\n${failedMust.length} MUST audit(s) failed: ${failedMust.map((r) => r.id).join(', ')}`);
  failed = true;
}
if (unlisted.length > 0) {
  console.error(
    `\n${unlisted.length} SHOULD/MAY audit(s) failed that are not left on purpose ` +
      `(fix the server, or add them to LEFT in .ci/clients/audit.mjs with the reason): ` +
      unlisted.map((r) => r.id).join(', '),
  );
  failed = true;
}
if (fixed.length > 0) {
  console.error(`\nListed in LEFT but passing now (take them out): ${fixed.join(', ')}`);
  failed = true;
}
process.exit(failed ? 1 : 0);
