// Apollo Client 4 over the README's operations, with automatic persisted
// queries (PersistedQueryLink, hashed queries by GET) and a normalized
// InMemoryCache, against a running pricegraph on fresh demo data:
// `node --conditions=development apollo.mjs README.md http://127.0.0.1:PORT/graphql`.
//
// Every ```graphql block of the README is one named operation; a ```json
// block right after it gives its variables, where "<a customer id>" (any
// "<a TYPE id>") stands for the id of the first TYPE the server lists.
//
// First pass, one client and cache for all operations, in the README's
// order (mutations run in this pass only: they write, and a second
// CreateTradeShowGroup would be answered TAKEN). Each goes by APQ: a
// hash-only request (a GET for a query, a POST for a mutation) answered
// PERSISTED_QUERY_NOT_FOUND, then the full query once, by POST. A query is
// read back from the cache with readQuery and must come back equal.
// Second pass, a fresh client and cache: each query goes by one hash-only
// GET, and no full query is sent; read back again.
// Then, for the first object with `__typename` and `id` in each result,
// `node(id:)` through Apollo must name the same object, normalized into the
// same cache entry (readFragment by its cache id finds it, with the fields
// the operation selected).
//
// Fails on any error, on a mutation's userErrors, on an object of a type
// with an `id` selected without it, on a readQuery that is null or
// differs, on any request that is not what APQ says, and on any
// console.warn or console.error (Apollo's "Missing field …" and cache
// warnings): Apollo reports those in development mode only, so Node must
// run with --conditions=development; this is checked.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { format, isDeepStrictEqual } from 'node:util';

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { __DEV__ } from '@apollo/client/utilities/environment';
import { Kind } from 'graphql';

const [readmePath, uri] = process.argv.slice(2);
if (!readmePath || !uri) {
  console.error('usage: node --conditions=development apollo.mjs README.md http://127.0.0.1:PORT/graphql');
  process.exit(2);
}

// --- what fails the run -------------------------------------------------

const failures = [];
const fail = (what) => {
  failures.push(what);
  console.log(`  FAIL ${what}`);
};
// Apollo's warnings and errors, from anywhere, fail the run (shown cut
// short: they may carry a whole result).
const warnings = [];
for (const method of ['warn', 'error']) {
  console[method] = (...args) => {
    const whole = format(...args);
    const text = whole.length > 800 ? `${whole.slice(0, 800)}… (${whole.length} characters)` : whole;
    warnings.push(`console.${method}: ${text}`);
    process.stdout.write(`  console.${method}: ${text}\n`);
  };
}
if (!__DEV__) {
  fail('Apollo Client is not in development mode (run node with --conditions=development): it would warn of nothing');
}
loadDevMessages();
loadErrorMessages();

// --- the README's operations -----------------------------------------------

const readme = readFileSync(readmePath, 'utf8');
const operations = [];
const block = /```graphql\n([\s\S]*?)```(?:\s*```json\n([\s\S]*?)```)?/g;
for (const [, source, variables] of readme.matchAll(block)) {
  let document;
  try {
    document = gql(source);
  } catch (error) {
    fail(`a README operation does not parse: ${error.message}\n${source}`);
    continue;
  }
  const definitions = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (definitions.length !== 1 || !definitions[0].name) {
    fail(`a README block is not one named operation:\n${source}`);
    continue;
  }
  operations.push({
    name: definitions[0].name.value,
    type: definitions[0].operation,
    document,
    variables: variables ? JSON.parse(variables) : {},
  });
}
if (operations.length === 0) fail(`no \`\`\`graphql block in ${readmePath}`);
console.log(`${operations.length} operations in ${readmePath}: ${operations.map((op) => op.name).join(', ')}`);

// "<a price list id>": the id of the first price list the server lists
// (`priceLists(first: 1)`), asked without Apollo.
async function plainQuery(query) {
  const response = await fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = await response.json();
  if (!response.ok || body.errors) throw new Error(`${query}: ${response.status} ${JSON.stringify(body)}`);
  return body.data;
}
const placeholder = /^<an? ([a-z ]+) id>$/;
for (const operation of operations) {
  for (const [name, value] of Object.entries(operation.variables)) {
    const type = typeof value === 'string' && value.match(placeholder)?.[1];
    if (!type) continue;
    const field = type.split(' ').map((word, i) => (i ? word[0].toUpperCase() + word.slice(1) : word)).join('') + 's';
    let id;
    try {
      const data = await plainQuery(`{ ${field}(first: 1) { edges { node { id } } } }`);
      id = data[field].edges[0]?.node.id;
    } catch (error) {
      fail(`${operation.name}: no id for $${name}: ${error.message}${error.cause ? ` (${error.cause.message})` : ''}`);
      process.exit(1);
    }
    if (!id) fail(`${operation.name}: the demo has no ${type} for $${name}`);
    operation.variables[name] = id;
    console.log(`${operation.name}: $${name} = ${id} (the first of ${field})`);
  }
}

// The types with an `id`: an object of one of them that a README
// operation selects without its `id` cannot be normalized by the cache.
let typesWithId;
try {
  const data = await plainQuery('{ __schema { types { name fields { name } } } }');
  typesWithId = new Set(
    data.__schema.types.filter((type) => type.fields?.some((field) => field.name === 'id')).map((type) => type.name),
  );
} catch (error) {
  fail(`the schema's types: ${error.message}${error.cause ? ` (${error.cause.message})` : ''}`);
  process.exit(1);
}
// Fails, once per field, for an object in a result of a type with an `id`
// but without it.
const withoutId = new Set();
function checkIds(what, value, path = 'data') {
  if (Array.isArray(value)) {
    value.forEach((item) => checkIds(what, item, `${path}[]`));
  } else if (value && typeof value === 'object') {
    if (typesWithId.has(value.__typename) && !('id' in value)) {
      const field = `${what}: ${path}`;
      if (!withoutId.has(field)) {
        withoutId.add(field);
        fail(`${field} is a ${value.__typename} selected without its id (the cache cannot normalize it)`);
      }
      return;
    }
    for (const [key, item] of Object.entries(value)) checkIds(what, item, `${path}.${key}`);
  }
}

// --- the client, and what it sends -------------------------------------------

// Every request Apollo makes, as APQ sees it.
const requests = [];
async function countingFetch(input, init = {}) {
  const method = (init.method ?? 'GET').toUpperCase();
  let query;
  let extensions;
  if (method === 'GET') {
    const params = new URL(String(input)).searchParams;
    query = params.get('query');
    extensions = params.get('extensions') ? JSON.parse(params.get('extensions')) : undefined;
  } else {
    const body = JSON.parse(init.body);
    query = body.query;
    extensions = body.extensions;
  }
  const hashed = Boolean(extensions?.persistedQuery?.sha256Hash);
  const response = await fetch(input, init);
  const body = await response.clone().json().catch(() => undefined);
  const notFound = Boolean(body?.errors?.some((error) => error.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND'));
  const kind = `${query ? 'full' : hashed ? 'hash-only' : 'empty'} ${method}${hashed ? '' : ' without hash'}`;
  requests.push({ kind, status: response.status, notFound });
  return response;
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
function newClient() {
  return new ApolloClient({
    link: ApolloLink.from([
      new PersistedQueryLink({ sha256, useGETForHashedQueries: true }),
      new HttpLink({ uri, fetch: countingFetch }),
    ]),
    cache: new InMemoryCache(),
  });
}

// Runs `run` and checks the requests it made against `expected` (each
// `kind`, or `kind NOT_FOUND`).
async function expectRequests(what, expected, run) {
  const from = requests.length;
  const result = await run();
  const made = requests.slice(from).map((r) => `${r.kind}${r.notFound ? ' NOT_FOUND' : ''}`);
  const bad = requests.slice(from).filter((r) => r.status !== 200);
  if (!isDeepStrictEqual(made, expected) || bad.length > 0) {
    const statuses = requests.slice(from).map((r) => r.status);
    fail(`${what}: requests ${JSON.stringify(made)} (status ${statuses}), expected ${JSON.stringify(expected)}`);
  }
  return result;
}

const FIRST_QUERY = ['hash-only GET NOT_FOUND', 'full POST'];
const FIRST_MUTATION = ['hash-only POST NOT_FOUND', 'full POST'];
const AGAIN = ['hash-only GET'];

async function runQuery(client, operation, expected, what = operation.name) {
  const { document: query, variables } = operation;
  const result = await expectRequests(what, expected, () =>
    client.query({ query, variables, fetchPolicy: 'network-only' }),
  );
  if (result.error) throw result.error;
  if (!result.data) throw new Error('no data');
  const cached = client.readQuery({ query, variables });
  if (cached === null) fail(`${operation.name}: readQuery gave null`);
  else if (!isDeepStrictEqual(cached, result.data)) fail(`${operation.name}: readQuery gave other data than the query`);
  return result.data;
}

async function runMutation(client, operation) {
  const { document: mutation, variables } = operation;
  const result = await expectRequests(operation.name, FIRST_MUTATION, () => client.mutate({ mutation, variables }));
  if (result.error) throw result.error;
  if (!result.data) throw new Error('no data');
  for (const [field, payload] of Object.entries(result.data)) {
    if (payload?.userErrors?.length) {
      fail(`${operation.name}: ${field} answered userErrors ${JSON.stringify(payload.userErrors)}`);
    }
  }
  return result.data;
}

// The first object with `__typename` and `id` in a result, depth first.
function firstNode(value) {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = firstNode(item);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    if (typeof value.__typename === 'string' && typeof value.id === 'string') return value;
    for (const item of Object.values(value)) {
      const found = firstNode(item);
      if (found) return found;
    }
  }
  return undefined;
}

const NODE = gql`
  query NodeRefetch($id: ID!) {
    node(id: $id) { __typename id }
  }
`;
let nodeQueries = 0;
async function checkNode(client, operation, data) {
  const object = firstNode(data);
  if (!object) {
    fail(`${operation.name}: no object with __typename and id in its result`);
    return;
  }
  const expected = nodeQueries++ === 0 ? FIRST_QUERY : AGAIN;
  const result = await expectRequests(`node(id:) for ${operation.name}`, expected, () =>
    client.query({ query: NODE, variables: { id: object.id }, fetchPolicy: 'network-only' }),
  );
  const node = result.data?.node;
  if (node?.__typename !== object.__typename || node?.id !== object.id) {
    fail(`${operation.name}: node(id: "${object.id}") gave ${JSON.stringify(node)}, not the ${object.__typename}`);
    return;
  }
  const id = client.cache.identify(node);
  const fields = Object.keys(object).filter((key) => typeof object[key] !== 'object' || object[key] === null);
  // graphql-tag wants fragment names unique across the program.
  const fragment = gql`fragment NodeOf${operation.name} on ${object.__typename} { ${fields.join(' ')} }`;
  const cached = client.readFragment({ id, fragment });
  const scalars = Object.fromEntries(fields.map((key) => [key, object[key]]));
  if (!isDeepStrictEqual(cached, scalars)) {
    fail(`${operation.name}: readFragment(${id}) gave ${JSON.stringify(cached)}, not ${JSON.stringify(scalars)}`);
  }
  console.log(`  node(id:) ${id}: normalized (${fields.join(', ')})`);
}

// --- the runs -----------------------------------------------------------

const step = async (what, run) => {
  try {
    return await run();
  } catch (error) {
    fail(`${what}: ${error.message ?? error}${error.errors ? ` ${JSON.stringify(error.errors)}` : ''}`);
    return undefined;
  }
};

const results = new Map();
console.log('\nfirst pass: one client, every operation, APQ registers each');
const first = newClient();
for (const operation of operations) {
  console.log(`${operation.type} ${operation.name}`);
  const data = await step(operation.name, () =>
    operation.type === 'mutation' ? runMutation(first, operation) : runQuery(first, operation, FIRST_QUERY),
  );
  if (data) {
    checkIds(operation.name, data);
    results.set(operation.name, data);
  }
}

console.log('\nsecond pass: a fresh client and cache, each query by its hash alone');
const second = newClient();
for (const operation of operations.filter((op) => op.type === 'query')) {
  console.log(`query ${operation.name}`);
  const what = `${operation.name} again`;
  await step(what, () => runQuery(second, operation, AGAIN, what));
}

console.log('\nnode(id:) for one object of each result, in the client that ran it');
for (const operation of operations) {
  const data = results.get(operation.name);
  if (!data) continue;
  const client = operation.type === 'query' ? second : first;
  await step(`node(id:) for ${operation.name}`, () => checkNode(client, operation, data));
}

// --- the figures --------------------------------------------------------

const byKind = {};
for (const request of requests) {
  const kind = `${request.kind}${request.notFound ? ' (PERSISTED_QUERY_NOT_FOUND)' : ''}`;
  byKind[kind] = (byKind[kind] ?? 0) + 1;
}
const queries = operations.filter((op) => op.type === 'query').length;
console.log(
  `\n${operations.length} operations (${queries} queries run twice, ${operations.length - queries} mutations once), ` +
    `${nodeQueries} node(id:) refetches, ${requests.length} requests:`,
);
for (const [kind, count] of Object.entries(byKind).sort()) console.log(`  ${String(count).padStart(3)}  ${kind}`);
for (const warning of warnings) fail(warning);
if (failures.length > 0) {
  process.stdout.write(`\n${failures.length} failure(s):\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
  process.exit(1);
}
console.log('no errors, no warnings');
